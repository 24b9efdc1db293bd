"""tfsr-upscale: super-resolve one image or a folder of images.

    tfsr-upscale --model=runs/x/model.keras --input=photo.jpg --output=photo_x2.png

    tfsr-upscale --model=runs/x/model.keras --input=photos/ --output=photos_x2/

Y-only models get bicubic chroma.  Large images are processed in tiles with
overlap (--tile, --overlap) so memory stays bounded.  No file is lost: an
input is never written over, two inputs never share an output (a.png and
a.jpg give a_png.png and a_jpg.png), an output folder inside the input
folder is not read as input, and an existing output is replaced only with
--overwrite.  Every path is checked before the first image is processed.
In folder mode a file that cannot be read is skipped with a warning, and
the count of skipped files is reported at the end.  Phone photos come out
upright (their EXIF orientation is applied).
"""

import os

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("model", None, "A .keras or .tflite model, a SavedModel folder (tfsr-export), 'bicubic', or a pretrained"
                    " model: zoo:x2, zoo:x3, zoo:x4 (float) or zoo:x2-int8 etc. (int8 TFLite).")
flags.DEFINE_integer("num_threads", None, "Interpreter threads for .tflite models (default: the runtime's).")
flags.DEFINE_string("input", None, "An image file or a folder of images.")
flags.DEFINE_string("output", None, "Output file (for one image) or folder.")
flags.DEFINE_integer("scale", None, "Upscaling factor (default: the model's).", lower_bound=2)
flags.DEFINE_integer("tile", 256, "LR tile side (0: whole image at once).")
flags.DEFINE_integer("overlap", 16, "LR pixels of context around each tile.")
flags.DEFINE_boolean("overwrite", False, "Replace existing output files (never an input).")
flags.mark_flags_as_required(["model", "input", "output"])
FLAGS = flags.FLAGS


def main(argv):
    from tfsr.data.images import IMAGE_EXTENSIONS, SkippedFiles, list_images, load_image, load_or_skip, save_image
    from tfsr.inference import load_upscaler
    from tfsr.outputs import check_output_file, folder_outputs, outside

    if FLAGS.tile < 0 or FLAGS.overlap < 0:
        common.fail("--tile and --overlap must be >= 0")
    if os.path.isdir(FLAGS.input):
        if os.path.isfile(FLAGS.output):
            common.fail(f"--output={FLAGS.output} is a file; for a folder of inputs name a folder")
        if os.path.realpath(FLAGS.output) == os.path.realpath(FLAGS.input):
            common.fail(f"--output={FLAGS.output} is the input folder; name another folder (e.g. {FLAGS.input}/x2)")
        files = outside(list_images(FLAGS.input), FLAGS.output)
        if not files:
            common.fail(f"--input: no images in {FLAGS.input}")
        outputs = folder_outputs(files, FLAGS.input, FLAGS.output)
    elif os.path.exists(FLAGS.input):
        files, outputs = [FLAGS.input], [FLAGS.output]
    else:
        common.fail(f"--input: no such file or folder: {FLAGS.input}")
    for dst in outputs:
        check_output_file(dst, "--output", FLAGS.overwrite, inputs=files, extensions=IMAGE_EXTENSIONS)
    upscaler = load_upscaler(
        FLAGS.model, FLAGS.scale, tile=FLAGS.tile, overlap=FLAGS.overlap, num_threads=FLAGS.num_threads
    )
    folder_mode = os.path.isdir(FLAGS.input)
    skipped = SkippedFiles()
    for i, (src, dst) in enumerate(zip(files, outputs), 1):
        # In a folder an unreadable file is skipped, as training does; a
        # single unreadable --input is the user's mistake.
        image = load_or_skip(src, skipped) if folder_mode else load_image(src)
        if image is None:
            continue
        result = upscaler.super_resolve(image)
        save_image(dst, result.image)
        h, w = image.shape[:2]
        print(f"[{i}/{len(files)}] {src} ({w}x{h}) -> {dst} ({w * upscaler.scale}x{h * upscaler.scale})", flush=True)
    if skipped:
        print(f"{len(files) - len(skipped)} of {len(files)} images upscaled; {skipped.summary()}", flush=True)
        if len(skipped) == len(files):
            common.fail(f"--input: none of the {len(files)} images in {FLAGS.input} could be read")


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
