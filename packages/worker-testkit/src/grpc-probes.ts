import {
  Client,
  credentials,
  Metadata,
  type MethodDefinition,
  type ServiceDefinition,
} from '@grpc/grpc-js';

// grpc.health.v1 and grpc.reflection.v1 are tiny: their few fields are encoded here by hand rather
// than generating code for two standard services the contract only requires a worker to serve.

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 127) {
    bytes.push((rest & 127) | 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** Length-delimited field `field` holding `value` (a string or an encoded message). */
export function encodeField(field: number, value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}

export function encodeVarintField(field: number, value: number): Buffer {
  return Buffer.concat([varint(field << 3), varint(value)]);
}

/** The top-level fields of a message: field number → values (Buffers for bytes, numbers for varints). */
export function decodeFields(buffer: Buffer): Map<number, (Buffer | number)[]> {
  const fields = new Map<number, (Buffer | number)[]>();
  let position = 0;
  const readVarint = () => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = buffer[position++];
      if (byte === undefined) throw new Error('truncated message');
      result += (byte & 127) * scale;
      if (byte < 128) return result;
      scale *= 128;
    }
  };
  while (position < buffer.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let value: Buffer | number;
    if (wire === 0) value = readVarint();
    else if (wire === 2) {
      const length = readVarint();
      value = buffer.subarray(position, position + length);
      position += length;
    } else if (wire === 5) {
      value = buffer.subarray(position, position + 4);
      position += 4;
    } else if (wire === 1) {
      value = buffer.subarray(position, position + 8);
      position += 8;
    } else throw new Error(`unsupported wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const identity = (value: Buffer) => value;

function method(
  path: string,
  requestStream: boolean,
  responseStream: boolean,
): MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

export const HEALTH_SERVICE: ServiceDefinition = {
  Check: method('/grpc.health.v1.Health/Check', false, false),
};
export const REFLECTION_SERVICES = ['v1', 'v1alpha'].map(
  (version): ServiceDefinition => ({
    ServerReflectionInfo: method(
      `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      true,
      true,
    ),
  }),
);

export const SERVING = 1;

/** grpc.health.v1 Check: the serving status (1 = SERVING) of `service` ("" for the server). */
export function checkHealth(address: string, service = '', timeoutMs = 5000): Promise<number> {
  const client = new Client(address, credentials.createInsecure());
  const request = service ? encodeField(1, service) : Buffer.alloc(0);
  return new Promise<number>((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      identity,
      identity,
      request,
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, response) => {
        client.close();
        if (error) reject(error);
        else resolve(Number(decodeFields(response ?? Buffer.alloc(0)).get(1)?.[0] ?? 0));
      },
    );
  });
}

/** The service names a server lists through reflection (v1, falling back to v1alpha). */
export async function listServicesByReflection(
  address: string,
  timeoutMs = 5000,
): Promise<string[]> {
  let lastError: unknown;
  for (const version of ['v1', 'v1alpha']) {
    try {
      return await listServices(address, version, timeoutMs);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function listServices(address: string, version: string, timeoutMs: number): Promise<string[]> {
  const client = new Client(address, credentials.createInsecure());
  const call = client.makeBidiStreamRequest(
    `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
    identity,
    identity,
    new Metadata(),
    { deadline: Date.now() + timeoutMs },
  );
  return new Promise<string[]>((resolve, reject) => {
    call.on('data', (response: Buffer) => {
      // ServerReflectionResponse.list_services_response (6) → ListServiceResponse.service (1) → name (1).
      const list = decodeFields(response).get(6)?.[0];
      const error = decodeFields(response).get(7)?.[0];
      if (error) reject(new Error('the reflection service answered with an error'));
      const names =
        list instanceof Buffer
          ? (decodeFields(list).get(1) ?? []).map((service) =>
              String((decodeFields(service as Buffer).get(1)?.[0] as Buffer | undefined) ?? ''),
            )
          : [];
      call.end();
      resolve(names);
    });
    call.on('error', (error) => reject(error));
    call.on('end', () => client.close());
    call.write(encodeField(7, '*'));
  }).finally(() => client.close());
}
