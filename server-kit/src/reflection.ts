// Server reflection from buf's descriptor set. proto-loader drops each file's dependency
// list (grpc/grpc-node#2595), so we hand @grpc/reflection the set's own FileDescriptorProto
// bytes, which strict clients such as grpcurl can resolve.
import { ReflectionService } from "@grpc/reflection";
import { loadSync } from "@grpc/proto-loader";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { readDescriptorSet } from "@voting/api";
import { protoPath as healthProtoPath } from "grpc-health-check";
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

function healthFiles(): Uint8Array[] {
  const def = loadSync(healthProtoPath);
  return (def["grpc.health.v1.HealthCheckRequest"] as { fileDescriptorProtos: Uint8Array[] }).fileDescriptorProtos;
}

/** Reflection (v1 and v1alpha) for the named services plus grpc.health.v1.Health. */
export function createReflection(serviceNames: string[]): ReflectionService {
  const files = [...splitDescriptorSet(readDescriptorSet()), ...healthFiles()];
  const pkg = { all: { fileDescriptorProtos: files } } as unknown as PackageDefinition;
  return new ReflectionService(pkg, { services: [...serviceNames, "grpc.health.v1.Health"] });
}
