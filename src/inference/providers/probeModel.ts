/**
 * @module inference/providers/probeModel
 * A four-element `y = x + x` ONNX model, serialised by hand (protobuf wire format), used to prove that an
 * execution provider really works on this machine before a real graph is loaded on it: creating a session
 * on a provider whose driver is missing fails here in milliseconds instead of on a 1 GB graph.
 */

/** Appends a protobuf varint. */
function varint(out: number[], value: number): void {
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function field(out: number[], tag: number, wireType: 0 | 2, payload: number | Uint8Array | string): void {
  varint(out, (tag << 3) | wireType);
  if (wireType === 0) {
    varint(out, payload as number);
    return;
  }
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : (payload as Uint8Array);
  varint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

function message(build: (out: number[]) => void): Uint8Array {
  const out: number[] = [];
  build(out);
  return Uint8Array.from(out);
}

/** ValueInfoProto of a float32 vector of `length` elements. */
function floatVector(name: string, length: number): Uint8Array {
  const dim = message((o) => field(o, 1, 0, length)); // Dimension.dim_value
  const shape = message((o) => field(o, 1, 2, dim)); // TensorShapeProto.dim
  const tensorType = message((o) => {
    field(o, 1, 0, 1); // elem_type FLOAT
    field(o, 2, 2, shape);
  });
  const type = message((o) => field(o, 1, 2, tensorType)); // TypeProto.tensor_type
  return message((o) => {
    field(o, 1, 2, name);
    field(o, 2, 2, type);
  });
}

/** Bytes of an ONNX model (IR 8, opset 17): input `x` float32[4] → output `y` = x + x. */
export function probeModelBytes(): Uint8Array {
  const node = message((o) => {
    field(o, 1, 2, 'x');
    field(o, 1, 2, 'x');
    field(o, 2, 2, 'y');
    field(o, 4, 2, 'Add');
  });
  const graph = message((o) => {
    field(o, 1, 2, node);
    field(o, 2, 2, 'probe');
    field(o, 11, 2, floatVector('x', 4));
    field(o, 12, 2, floatVector('y', 4));
  });
  const opset = message((o) => {
    field(o, 1, 2, '');
    field(o, 2, 0, 17);
  });
  return message((o) => {
    field(o, 1, 0, 8); // ir_version
    field(o, 7, 2, graph);
    field(o, 8, 2, opset);
  });
}
