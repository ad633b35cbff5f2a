/**
 * vim25 SOAP over fetch: one POST per method to the endpoint's /sdk, the session cookie vCenter sets
 * at Login sent back on every later call. A fault becomes a VsphereFaultError naming its type; the
 * password is only ever in a Login body, never in a URL, a header or a message.
 */
import { VsphereFaultError, VsphereProtocolError, VsphereUnreachableError } from './errors';
import { type El, type Mor, morEl, type Node, one, parseXml, render, text, xsiType } from './xml';

/** vim25 6.5: what vCenter 6.5 and later (and govmomi's simulator) answer. */
const SOAP_ACTION = 'urn:vim25/6.5';

export class SoapTransport {
  private cookie?: string;

  /** `who` names the caller in messages (a machine, a seed). */
  constructor(
    readonly url: string,
    readonly who: string,
    private readonly timeoutMs: number,
  ) {}

  /** Calls `method` on `self`; resolves to the answer's `<method>Response` (its `returnval`s inside). */
  async call(method: string, self: Mor, params: (El | undefined)[] = []): Promise<Node | undefined> {
    const request = render({
      tag: method,
      attrs: { xmlns: 'urn:vim25' },
      body: [morEl('_this', self), ...params.filter((p): p is El => !!p)],
    });
    const envelope = `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${request}</soapenv:Body></soapenv:Envelope>`;
    const headers: Record<string, string> = { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: SOAP_ACTION };
    if (this.cookie) headers['Cookie'] = this.cookie;
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers,
        body: envelope,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new VsphereUnreachableError(this.who, this.url, { cause: err });
    }
    const session = res.headers.get('set-cookie')?.match(/vmware_soap_session=("[^"]*"|[^;]*)/)?.[0];
    if (session) this.cookie = session;
    const answer = await res.text();
    let parsed: Node;
    try {
      parsed = parseXml(answer);
    } catch {
      throw new VsphereProtocolError(this.who, this.url, `HTTP ${res.status}, not XML`);
    }
    const soapBody = one(one(parsed, 'Envelope'), 'Body');
    if (soapBody === undefined) throw new VsphereProtocolError(this.who, this.url, `HTTP ${res.status}, no SOAP body`);
    const fault = one(soapBody, 'Fault');
    if (fault !== undefined) {
      const { type, message } = faultOf(fault);
      throw new VsphereFaultError(this.who, method, type, message);
    }
    if (!res.ok) throw new VsphereProtocolError(this.who, this.url, `HTTP ${res.status}`);
    return one(soapBody, `${method}Response`);
  }

  /** The one `returnval` of `method` (undefined for a void method). */
  async value(method: string, self: Mor, params: (El | undefined)[] = []): Promise<Node | undefined> {
    return one(await this.call(method, self, params), 'returnval');
  }
}

/** The fault's type (from `detail`'s xsi:type, else its element name) and message. */
export function faultOf(fault: Node): { type: string; message: string } {
  const detail = one(fault, 'detail');
  const named =
    typeof detail === 'object' ? Object.keys(detail).find((k) => !k.startsWith('@') && k !== '#text') : undefined;
  const first = named ? one(detail, named) : undefined;
  const type = xsiType(first) ?? named?.replace(/^.*:/, '').replace(/Fault$/, '') ?? 'ServerFault';
  return { type, message: text(one(fault, 'faultstring')) };
}
