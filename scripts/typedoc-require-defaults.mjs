/**
 * TypeDoc plugin: every optional property of a public `…Options` interface
 * (an option a caller may leave out) must say what happens when it is left
 * out, with an `@default` tag — the project's rule for options. A missing tag
 * is a warning naming the option, and typedoc.json treats warnings as errors,
 * so `npm test` (test/integration/docs/api-docs.test.ts) fails on it.
 * Per-call options with no default write `@default undefined` and say in the
 * sentence what absence means.
 */
import { ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  // Runs with TypeDoc's own validation (not at conversion, where a warning
  // would stop TypeDoc before it lists the undocumented symbols too), so one
  // run names every problem. TypeDoc has no validation event: chain onto validate().
  const validate = app.validate.bind(app);
  app.validate = (project) => {
    validate(project);
    if (app.options.getValue('validation').notDocumented) requireDefaults(project, app.logger);
  };
}

function requireDefaults(project, logger) {
  for (const options of project.getReflectionsByKind(ReflectionKind.Interface)) {
    if (!/Options$/.test(options.name)) continue;
    for (const option of options.children ?? []) {
      if (option.kind !== ReflectionKind.Property || !option.flags.isOptional) continue;
      // Inherited members are checked where they are declared.
      if (option.inheritedFrom !== undefined) continue;
      if (option.comment?.getTag('@default') === undefined) {
        logger.warn(`${option.getFullName()} (option), defined in ${option.sources?.[0]?.fileName ?? '?'}, has no @default tag`);
      }
    }
  }
}
