/**
 * Finding where a decorator was applied: the module, so that an executor in another thread or
 * process can import it and find the method by reference, and the line, for messages.
 * @module
 */
import { basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ownRoot = new URL('../', import.meta.url).href;
// Libraries that apply decorators on the user's behalf stand between the decorator and the user's module.
const helpers = [
  '/node_modules/tslib/',
  '/node_modules/reflect-metadata/',
  '/node_modules/@swc/helpers/',
  '/node_modules/@babel/runtime/',
];

/** Where the user's code applied a decorator. */
export interface CallerSite {
  /** URL of the module. */
  readonly module: string;
  /** The file's name, for messages. */
  readonly file: string;
  /** The line, from 1. */
  readonly line: number;
}

/**
 * The first frame on the stack that is not parafor's own, not Node's, and not a decorator helper
 * library: the user's module that is defining the class or function.
 */
export function callerSite(): CallerSite | undefined {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- saved to be put back as it was
  const { prepareStackTrace: saved, stackTraceLimit: savedLimit } = Error;
  let sites: NodeJS.CallSite[];
  try {
    Error.stackTraceLimit = 30;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, callerSite);
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
    return { module: url, file: basename(fileURLToPath(url)), line: site.getLineNumber() ?? 0 };
  }
  return undefined;
}
