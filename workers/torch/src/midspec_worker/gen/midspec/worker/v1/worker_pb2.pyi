from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as _capabilities_pb2
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2 as _datasets_pb2
from midspec_worker.gen.midspec.worker.v1 import inference_pb2 as _inference_pb2
from midspec_worker.gen.midspec.worker.v1 import runs_pb2 as _runs_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
