/**
 * portscout: a typed network-scanning library.
 *
 * @module portscout
 */
export { PortscoutError } from './errors.js';
export * from './wire/index.js';
