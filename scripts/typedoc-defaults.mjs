/**
 * TypeDoc plugin: each member of a `*_DEFAULTS` / `DEFAULTS` object gets the
 * line "Default of the `x` option." Why: the meaning of every option is
 * documented once, on its options interface (with `@default`); repeating it
 * on the frozen defaults object would be a second copy to keep in step.
 * Members that already have a comment keep it.
 */
import { Comment, Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    for (const variable of context.project.getReflectionsByKind(ReflectionKind.Variable)) {
      if (/(^|_)DEFAULTS$/.test(variable.name)) describe(variable.type, '');
    }
  });
}

function describe(type, path) {
  if (type?.type !== 'reflection') return;
  for (const member of type.declaration.children ?? []) {
    const name = path + member.name;
    member.comment ??= new Comment([{ kind: 'text', text: `Default of the \`${name}\` option.` }]);
    describe(member.type, `${name}.`);
  }
}
