/**
 * Finding the module that applied a decorator, so an executor in another thread or process can
 * import it and find the method by reference.
 * @module
 */
import { pathToFileURL } from 'node:url';

const ownRoot = new URL('../', import.meta.url).href;
// Libraries that apply decorators on the user's behalf stand between the decorator and the user's module.
const helpers = [
  '/node_modules/tslib/',
  '/node_modules/reflect-metadata/',
  '/node_modules/@swc/helpers/',
  '/node_modules/@babel/runtime/',
];

/**
 * URL of the first module on the stack that is not parafor's own, not Node's, and not a decorator
 * helper library: the user's module that is defining the class or function.
 */
export function callerModule(): string | undefined {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- saved to be put back as it was
  const { prepareStackTrace: saved, stackTraceLimit: savedLimit } = Error;
  let sites: NodeJS.CallSite[];
  try {
    Error.stackTraceLimit = 30;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, callerModule);
    sites = Array.isArray(holder.stack) ? (holder.stack as NodeJS.CallSite[]) : [];
  } finally {
    Error.prepareStackTrace = saved;
    Error.stackTraceLimit = savedLimit;
  }
  for (const site of sites) {
    const file = site.getFileName();
    if (file === undefined || file === null || file.startsWith('node:')) continue;
    const url = file.startsWith('file:') ? file : file.startsWith('/') ? pathToFileURL(file).href : undefined;
    if (url === undefined || url.startsWith(ownRoot) || helpers.some((helper) => url.includes(helper))) continue;
    return url;
  }
  return undefined;
}
