/*
 * Skiff's JPEG decoder: libjpeg(-turbo) called straight from the image thread (libjpeg-decoder.ts loads it).
 *
 * Why: libvips decodes the bench's 500x375 photo in about 3.8 ms of CPU (its pipeline, its threads and their
 * hand-overs) where libjpeg-turbo itself needs about 0.9 ms. The settings are libjpeg's defaults, the ones
 * libvips and Pillow decode with (the accurate integer IDCT, fancy upsampling, no scaling), so the pixels are
 * the same bytes; test/integration/libjpeg-decoder.test.ts compares them with sharp's on every picture it has.
 *
 * One function, decode(jpeg, out, width, height, components): true once `out` holds the picture's rows
 * (RGB, or grey for a one-component file), false when the file is not what the caller's marker reader said
 * (another size, component count or colour space: the caller then leaves the file to libvips). It throws on
 * anything libjpeg reports, warnings included (a truncated file, corrupt data), as sharp's failOn 'warning' does.
 * It runs synchronously on the calling thread: the caller never calls it on an event loop that serves requests.
 */
#include <node_api.h>
#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>

/* A progressive file may hold thousands of legal scans, each a pass over every coefficient. */
#define MAX_SCANS 500

struct skiff_error {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

static void fail(j_common_ptr cinfo) {
  struct skiff_error *error = (struct skiff_error *)cinfo->err;
  cinfo->err->format_message(cinfo, error->message);
  longjmp(error->jump, 1);
}

/* Level -1 is a warning (corrupt data, premature end of file): refused, as libvips refuses it for sharp. */
static void message(j_common_ptr cinfo, int level) {
  if (level < 0) fail(cinfo);
}

static void progress(j_common_ptr cinfo) {
  j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
  if (dinfo->input_scan_number > MAX_SCANS) {
    struct skiff_error *error = (struct skiff_error *)cinfo->err;
    snprintf(error->message, sizeof error->message, "more than %d scans", MAX_SCANS);
    longjmp(error->jump, 1);
  }
}

static napi_value throw_error(napi_env env, const char *text) {
  napi_throw_error(env, "SKIFF_JPEG_DECODE", text);
  return NULL;
}

static napi_value js_boolean(napi_env env, int value) {
  napi_value result;
  napi_get_boolean(env, value != 0, &result);
  return result;
}

static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  void *input, *output;
  size_t input_length, output_length;
  uint32_t width, height, components;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 ||
      napi_get_buffer_info(env, argv[0], &input, &input_length) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &output, &output_length) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &width) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &height) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &components) != napi_ok)
    return throw_error(env, "decode(jpeg: Buffer, out: Buffer, width, height, components)");
  if ((components != 1 && components != 3) || (size_t)width * height * components != output_length)
    return throw_error(env, "the output buffer is not width x height x components bytes");

  struct jpeg_decompress_struct cinfo = {0};
  struct skiff_error error;
  struct jpeg_progress_mgr monitor;
  cinfo.err = jpeg_std_error(&error.mgr);
  error.mgr.error_exit = fail;
  error.mgr.emit_message = message;
  error.message[0] = '\0';
  /* Before jpeg_create_decompress, which fails through error_exit too; destroying a zeroed struct is a no-op. */
  if (setjmp(error.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return throw_error(env, error.message);
  }
  jpeg_create_decompress(&cinfo);
  monitor.progress_monitor = progress;
  cinfo.progress = &monitor;
  jpeg_mem_src(&cinfo, input, (unsigned long)input_length);
  jpeg_read_header(&cinfo, TRUE);
  int colour_ok = components == 1 ? cinfo.jpeg_color_space == JCS_GRAYSCALE
                                  : cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB;
  if (cinfo.image_width != width || cinfo.image_height != height || cinfo.num_components != (int)components ||
      !colour_ok) {
    jpeg_destroy_decompress(&cinfo);
    return js_boolean(env, 0);
  }
  cinfo.out_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  size_t stride = (size_t)width * components;
  if (cinfo.output_width != width || cinfo.output_height != height ||
      cinfo.output_components != (int)components) {
    jpeg_destroy_decompress(&cinfo);
    return js_boolean(env, 0);
  }
  while (cinfo.output_scanline < height) {
    JSAMPROW rows[16];
    JDIMENSION count = 0;
    while (count < 16 && cinfo.output_scanline + count < height) {
      rows[count] = (JSAMPROW)output + (size_t)(cinfo.output_scanline + count) * stride;
      count++;
    }
    jpeg_read_scanlines(&cinfo, rows, count);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return js_boolean(env, 1);
}

NAPI_MODULE_INIT() {
  napi_value function;
  if (napi_create_function(env, "decode", NAPI_AUTO_LENGTH, decode, NULL, &function) != napi_ok ||
      napi_set_named_property(env, exports, "decode", function) != napi_ok)
    return NULL;
  return exports;
}
