"""The architecture language of tfsr: spec, op graph, builder, cost model."""

from tfsr.arch import blocks, upsamplers  # noqa: F401  (register plug-ins first)
from tfsr.arch.spec import ArchSpec, CellSpec, SpecError, StemSpec, UpsamplerSpec, as_spec  # noqa: F401
from tfsr.arch.graph import deploy_graph, lower  # noqa: F401
from tfsr.arch.reparam import deploy  # noqa: F401
from tfsr.arch.builder import build_model  # noqa: F401
from tfsr.arch.cost import Cost, count  # noqa: F401
from tfsr.arch import zoo  # noqa: F401
