"""tfsr-data: list the standard SR datasets and install them into the data root.

    tfsr-data                                  # what is known, what is installed
    tfsr-data --get=DIV2K,Set5,Set14           # download, verify, install
    tfsr-data --get=T91 --from=~/Downloads/T91.zip      # from a local archive or folder
    tfsr-data --get=Set5 --url=http://mirror/benchmark.tar   # from a mirror

The data root is --data_root, else the TFSR_DATA environment variable, else
~/tfsr_data; the shipped configs read their data from it ($TFSR_DATA/...).
Downloads show progress and resume where a killed run stopped; archives
are checked against their published checksums where those exist.
"""

import os

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_list("get", [], "Sets to install, comma-separated (names as listed, any case).")
flags.DEFINE_string("from", None, "Install --get (one set) from this local archive (.zip/.tar) or folder.")
flags.DEFINE_string("url", None, "Download --get (one set) from this URL instead of the catalogued one.")
FLAGS = flags.FLAGS


def main(argv):
    from tfsr.data import catalog, fetch
    from tfsr.data import root as data_root

    root = data_root.root()
    if not FLAGS.get:
        print(f"data root: {root} (from {data_root.where()})\n")
        print(f"{'set':<13}{'folder':<18}{'images':>7}  {'installed':<10} source")
        for s in catalog.SETS.values():
            installed = "yes" if fetch.is_installed(s, root) else "-"
            print(f"{s.name:<13}{s.folder:<18}{s.images:>7}  {installed:<10} {s.url or '--from only (no official URL)'}")
        return
    unknown = [name for name in FLAGS.get if name.lower() not in catalog.SETS]
    if unknown:
        common.fail(f"--get: unknown set {', '.join(unknown)}; known: {', '.join(s.name for s in catalog.SETS.values())}")
    source = FLAGS["from"].value  # "from" is a Python keyword: no FLAGS.from
    if (source or FLAGS.url) and len(FLAGS.get) > 1:
        common.fail("--from and --url install one set at a time; name one in --get")
    for name in FLAGS.get:
        fetch.install(catalog.SETS[name.lower()], root, source=source and os.path.expanduser(source), url=FLAGS.url)


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
