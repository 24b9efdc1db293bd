"""The standard SR datasets `tfsr-data` knows: where each comes from and
where it goes under the data root.

A `DataSet` names one folder of the data root (`train/DIV2K`,
`val/Set5`), the archive that holds it, and which part of that archive is
its images.  Several sets can share one archive (the EDSR benchmark bundle
holds Set5, Set14, B100 and Urban100); it is downloaded once.

Checksums are the publicly documented ones where such exist (`md5:` or
`sha256:`); an archive without one is reported as unverified, with the
sha256 of what was fetched, never silently trusted.  Sets without a stable
official URL can only be installed from a local copy (`--from`).
"""

import dataclasses

EDSR_BENCHMARK = "https://cv.snu.ac.kr/research/EDSR/benchmark.tar"


@dataclasses.dataclass(frozen=True)
class DataSet:
    name: str
    folder: str  # relative to the data root
    about: str
    images: int
    url: str | None  # None: no stable official URL; install with --from
    member: str  # the archive folder whose image files make up the set ("" = all)
    checksum: str | None = None  # "md5:<hex>" / "sha256:<hex>" of the archive

    @property
    def archive(self):
        return self.url.rsplit("/", 1)[-1] if self.url else None


SETS = {
    s.name.lower(): s
    for s in [
        DataSet("DIV2K", "train/DIV2K", "800 2K training photos (Agustsson & Timofte 2017)", 800,
                "http://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_train_HR.zip", "DIV2K_train_HR/",
                "md5:bdc2d9338d4e574fe81bf7d158758658"),
        DataSet("DIV2K-valid", "val/DIV2K-valid", "DIV2K's 100 validation photos", 100,
                "http://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_valid_HR.zip", "DIV2K_valid_HR/",
                "md5:9fcdda83005c5e5997799b69f955ff88"),
        DataSet("Flickr2K", "train/Flickr2K", "2650 2K photos collected for EDSR (Lim et al. 2017)", 2650,
                "https://cv.snu.ac.kr/research/EDSR/Flickr2K.tar", "Flickr2K/Flickr2K_HR/"),
        DataSet("T91", "train/T91", "91 training images (Yang et al. 2010)", 91, None, ""),
        DataSet("BSD200", "train/BSD200", "BSD300's 200 training photos (Martin et al. 2001)", 200, None, ""),
        DataSet("General-100", "train/General-100", "100 training images of FSRCNN (Dong et al. 2016)", 100,
                None, ""),
        DataSet("Set5", "val/Set5", "benchmark: 5 images (Bevilacqua et al. 2012)", 5, EDSR_BENCHMARK,
                "benchmark/Set5/HR/"),
        DataSet("Set14", "val/Set14", "benchmark: 14 images (Zeyde et al. 2010)", 14, EDSR_BENCHMARK,
                "benchmark/Set14/HR/"),
        DataSet("B100", "val/B100", "benchmark: BSDS500's 100 validation photos", 100, EDSR_BENCHMARK,
                "benchmark/B100/HR/"),
        DataSet("Urban100", "val/Urban100", "benchmark: 100 urban scenes (Huang et al. 2015)", 100,
                EDSR_BENCHMARK, "benchmark/Urban100/HR/"),
    ]
}  # fmt: skip
