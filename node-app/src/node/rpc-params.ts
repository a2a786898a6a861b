/**
 * Checking XML-RPC parameters the way a Python method signature would: the wrong count is a
 * TypeError fault with Python's wording, a wrong type is a fault naming the parameter.
 */
import { XmlRpcFault, type XmlRpcValue } from '../peers/xmlrpc-codec';

export type Struct = { [k: string]: XmlRpcValue };

export function typeErrorFault(text: string): XmlRpcFault {
  return new XmlRpcFault(1, `<class 'TypeError'>:${text}`);
}

/** Python counts `self`, so `heartbeat()` "takes 1 positional argument". */
export function checkArity(method: string, params: XmlRpcValue[], names: string[], required = names.length): void {
  const given = params.length;
  if (given > names.length) {
    const takes = names.length + 1;
    const t = required === names.length ? `${takes}` : `from ${required + 1} to ${takes}`;
    throw typeErrorFault(
      `XMLRPCServer.${method}() takes ${t} positional argument${takes === 1 ? '' : 's'} but ${given + 1} were given`,
    );
  }
  if (given < required) {
    const missing = names.slice(given, required);
    const list = missing.map((n) => `'${n}'`);
    const joined = list.length === 1 ? list[0] : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
    throw typeErrorFault(
      `XMLRPCServer.${method}() missing ${missing.length} required positional argument${missing.length === 1 ? '' : 's'}: ${joined}`,
    );
  }
}

export function stringParam(params: XmlRpcValue[], i: number, name: string, maxChars = 1024): string {
  const v = params[i];
  if (typeof v !== 'string') throw typeErrorFault(`parameter ${name} must be a string`);
  if (v.length > maxChars) throw typeErrorFault(`parameter ${name} is too long`);
  return v;
}

export function structParam(params: XmlRpcValue[], i: number, name: string): Struct {
  const v = params[i];
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date || Buffer.isBuffer(v)) {
    throw typeErrorFault(`parameter ${name} must be a struct`);
  }
  return v as Struct;
}

export function isStruct(v: XmlRpcValue | undefined): v is Struct {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
}
