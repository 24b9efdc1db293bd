"""The demo search: a few minutes on 2 CPU cores with the bundled images.

    tfsr-search --config=configs/demo.py --workdir=runs/demo_search
"""

from tfsr.config import demo_search_config


def get_config():
    return demo_search_config()
