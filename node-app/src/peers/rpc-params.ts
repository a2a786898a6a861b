/**
 * XML-RPC parameters checked the way a Python method signature would check them: the one arity
 * checker (Python 3.11's exact TypeError wording, which the original's callers see as fault text),
 * the one "is this an XML-RPC struct" test, and the typed parameter getters handlers use. Every
 * handler of the node, the replication layer and the peer server goes through these, so the texts
 * cannot drift apart.
 */
import { XmlRpcFault, type XmlRpcValue } from './xmlrpc-codec';

export type Struct = { [k: string]: XmlRpcValue };

/** Positional parameters a handler takes (without `self`), the first `required` of them without defaults. */
export interface PeerHandlerArity {
  names: readonly string[];
  required: number;
}

/** Python's SimpleXMLRPCServer fault for an exception: `"%s:%s" % (type(exc), exc)`, faultCode 1. */
export function pythonFault(kind: string, message: string): XmlRpcFault {
  return new XmlRpcFault(1, `<class '${kind}'>:${message}`);
}

export function typeErrorFault(text: string): XmlRpcFault {
  return pythonFault('TypeError', text);
}

/** Python's list of missing names: `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'` (serial comma from three on). */
function quoteList(names: readonly string[]): string {
  const q = names.map((n) => `'${n}'`);
  if (q.length <= 2) return q.join(' and ');
  return `${q.slice(0, -1).join(', ')}, and ${q[q.length - 1]}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The TypeError Python raises when `XMLRPCServer.<method>` is called with `given` positional
 * arguments, or undefined when the count fits. Python counts `self`, so a method without parameters
 * "takes 1 positional argument".
 */
export function arityFault(method: string, arity: PeerHandlerArity, given: number): XmlRpcFault | undefined {
  const max = arity.names.length;
  const fn = `XMLRPCServer.${method}()`;
  if (given > max) {
    const takes = arity.required === max ? plural(max + 1, 'positional argument') : `from ${arity.required + 1} to ${max + 1} positional arguments`;
    return typeErrorFault(`${fn} takes ${takes} but ${given + 1} ${given + 1 === 1 ? 'was' : 'were'} given`);
  }
  if (given < arity.required) {
    const missing = arity.names.slice(given, arity.required);
    return typeErrorFault(`${fn} missing ${plural(missing.length, 'required positional argument')}: ${quoteList(missing)}`);
  }
  return undefined;
}

/** Throws Python's TypeError fault when `params` does not fit `names` (the first `required` of them mandatory). */
export function checkArity(method: string, params: readonly XmlRpcValue[], names: readonly string[], required = names.length): void {
  const f = arityFault(method, { names, required }, params.length);
  if (f) throw f;
}

/** An XML-RPC `<struct>` as decoded: a plain object (not an array, dateTime or base64 value). */
export function isStruct(v: XmlRpcValue | undefined): v is Struct {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
}

export function stringParam(params: readonly XmlRpcValue[], i: number, name: string, maxChars = 1024): string {
  const v = params[i];
  if (typeof v !== 'string') throw typeErrorFault(`parameter ${name} must be a string`);
  if (v.length > maxChars) throw typeErrorFault(`parameter ${name} is too long`);
  return v;
}

export function structParam(params: readonly XmlRpcValue[], i: number, name: string): Struct {
  const v = params[i];
  if (!isStruct(v)) throw typeErrorFault(`parameter ${name} must be a struct`);
  return v;
}
