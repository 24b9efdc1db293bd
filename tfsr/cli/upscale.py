"""tfsr-upscale: super-resolve one image or a folder of images.

    tfsr-upscale --model=runs/x/model.keras --input=photo.jpg --output=photo_x2.png

Y-only models get bicubic chroma.  Large images are processed in tiles with
overlap (--tile, --overlap) so memory stays bounded.
"""

import os

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("model", None, "A .keras or .tflite model, a SavedModel folder (tfsr-export), or 'bicubic'.")
flags.DEFINE_integer("num_threads", None, "Interpreter threads for .tflite models (default: the runtime's).")
flags.DEFINE_string("input", None, "An image file or a folder of images.")
flags.DEFINE_string("output", None, "Output file (for one image) or folder.")
flags.DEFINE_integer("scale", None, "Upscaling factor (default: the model's).")
flags.DEFINE_integer("tile", 256, "LR tile side (0: whole image at once).")
flags.DEFINE_integer("overlap", 16, "LR pixels of context around each tile.")
flags.mark_flags_as_required(["model", "input", "output"])
FLAGS = flags.FLAGS


def main(argv):
    from tfsr.data.images import list_images, load_image, save_image
    from tfsr.inference import load_upscaler

    if FLAGS.tile < 0 or FLAGS.overlap < 0:
        common.fail("--tile and --overlap must be >= 0")
    upscaler = load_upscaler(
        FLAGS.model, FLAGS.scale, tile=FLAGS.tile, overlap=FLAGS.overlap, num_threads=FLAGS.num_threads
    )
    if os.path.isdir(FLAGS.input):
        files = list_images(FLAGS.input)
        if not files:
            common.fail(f"--input: no images in {FLAGS.input}")
        outputs = [
            os.path.join(FLAGS.output, os.path.splitext(os.path.relpath(f, FLAGS.input))[0] + ".png") for f in files
        ]
    elif os.path.exists(FLAGS.input):
        files, outputs = [FLAGS.input], [FLAGS.output]
    else:
        common.fail(f"--input: no such file or folder: {FLAGS.input}")
    for i, (src, dst) in enumerate(zip(files, outputs), 1):
        image = load_image(src)
        result = upscaler.super_resolve(image)
        save_image(dst, result.image)
        h, w = image.shape[:2]
        print(f"[{i}/{len(files)}] {src} ({w}x{h}) -> {dst} ({w * upscaler.scale}x{h * upscaler.scale})", flush=True)


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
