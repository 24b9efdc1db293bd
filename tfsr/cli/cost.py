"""tfsr-cost: exact params and mult-adds of an architecture, as one JSON line.

    tfsr-cost --arch=fsrcnn --lr_size=480x480 --scale=2
    {"params": 12809, "mult_adds": 6006988800}

The figures are those of the deployed model; a spec with
re-parameterizable blocks (ecb, collapsible) also gets its training form:

    {"params": 10273, "mult_adds": ..., "training": {"params": ..., "mult_adds": ...}}

and a spec whose PReLUs an int8 file splits into ReLUs (`tfsr.arch.prelu_split`)
what that file computes, under "int8".
"""

import json

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("arch", None, "Built-in architecture (fsrcnn, espcn, ecbsr, sesr, abpn, searched_2.3g, ...) or an ArchSpec .json file.")
flags.DEFINE_string("lr_size", "480x480", "LR input size, WIDTHxHEIGHT.")
flags.DEFINE_integer("scale", 2, "Upscaling factor (for built-ins; a spec file has its own).", lower_bound=2)
flags.mark_flag_as_required("arch")
FLAGS = flags.FLAGS


def main(argv):
    from tfsr.arch import count, zoo
    from tfsr.arch.cost import count_graph
    from tfsr.arch.prelu_split import int8_graph
    from tfsr.config import parse_size

    size = parse_size(FLAGS.lr_size, "--lr_size")
    spec = zoo.resolve(FLAGS.arch, FLAGS.scale)
    deployed, training = count(spec, size), count(spec, size, deployed=False)
    report = deployed.to_dict()
    if training != deployed:
        report["training"] = training.to_dict()
    int8 = count_graph(int8_graph(spec), size)
    if int8 != deployed:
        report["int8"] = int8.to_dict()
    print(json.dumps(report))


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
