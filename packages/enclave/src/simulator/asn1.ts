import * as asn1js from "asn1js";

/** Minimal DER builders for the vendor extensions the simulator writes. */
export const der = {
  seq: (...items: asn1js.AsnType[]) => new asn1js.Sequence({ value: items }),
  oid: (value: string) => new asn1js.ObjectIdentifier({ value }),
  int: (value: number) => new asn1js.Integer({ value }),
  enumerated: (value: number) => new asn1js.Enumerated({ value }),
  octets: (bytes: Uint8Array) => new asn1js.OctetString({ valueHex: new Uint8Array(bytes).buffer }),
  ia5: (value: string) => new asn1js.IA5String({ value }),
  encode: (node: asn1js.AsnType) => new Uint8Array(node.toBER(false)),
};
