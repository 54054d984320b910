// Server reflection from buf's descriptor set (ours plus grpc.health.v1). proto-loader
// drops each file's dependency list (grpc/grpc-node#2595) and writes relative type names,
// so we hand @grpc/reflection the set's own protoc-shaped FileDescriptorProto bytes, which
// strict clients such as grpcurl can resolve.
import { ReflectionService } from "@grpc/reflection";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { readDescriptorSet } from "@voting/api";
import type { PackageDefinition } from "@grpc/proto-loader";

/** The serialized FileDescriptorProtos of a FileDescriptorSet (field 1, repeated). */
export function splitDescriptorSet(set: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(set);
  const files: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) files.push(reader.bytes());
    else reader.skip(wireType);
  }
  return files;
}

/** Reflection (v1 and v1alpha) for the named services plus grpc.health.v1.Health. */
export function createReflection(serviceNames: string[]): ReflectionService {
  const files = splitDescriptorSet(readDescriptorSet());
  const pkg = { all: { fileDescriptorProtos: files } } as unknown as PackageDefinition;
  return new ReflectionService(pkg, { services: [...serviceNames, "grpc.health.v1.Health"] });
}
