export { RateLimiter, type RateLimitResult } from './rate-limiter.js';
export type { RateAcquireOptions, RateLimiterOptions, ResolvedRateLimiterOptions } from './options.js';
