/*
 * Skiff's JPEG decoder: libjpeg(-turbo) called straight from Node (libjpeg-decoder.ts loads it).
 *
 * Why: libvips decodes the bench's 500x375 photo in about 3.8 ms of CPU (its pipeline, its threads and their
 * hand-overs) where libjpeg-turbo itself needs about 0.9 ms. The settings are libjpeg's defaults, the ones
 * libvips and Pillow decode with (the accurate integer IDCT, fancy upsampling, no scaling), so the pixels are
 * the same bytes; libjpeg-decoder.test.ts compares them with libvips' on every picture it has.
 *
 * decode(jpeg, out, width, height, components) fills `out` (RGB, or grey for a one-component file) on the
 * calling thread and returns true; false when the file is not what the caller's marker reader said (another
 * size, component count or colour space: the caller then leaves it to libvips). It throws on anything libjpeg
 * reports, warnings included (a truncated file, corrupt data), as sharp's failOn 'warning' does.
 * decodeAsync(...) does the same on libuv's thread pool and returns a promise; the caller must leave both
 * buffers alone until it settles.
 */
#include <node_api.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

/*
 * A progressive file may hold hundreds of legal scans, each a pass over every coefficient. The codec refuses such
 * files before calling (MAX_JPEG_SCANS in src/core/preprocess/jpeg-scans.ts, the same number); this holds even
 * for a caller that did not.
 */
#define MAX_SCANS 32

enum outcome { DECODED, NOT_AS_SAID, FAILED };

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

/* Touches no JavaScript value: safe on any thread. `text` receives libjpeg's message when FAILED. */
static enum outcome decode_into(const void *input, size_t input_length, void *output, uint32_t width,
                                uint32_t height, uint32_t components, char text[JMSG_LENGTH_MAX]) {
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
    snprintf(text, JMSG_LENGTH_MAX, "%s", error.message);
    return FAILED;
  }
  jpeg_create_decompress(&cinfo);
  monitor.progress_monitor = progress;
  cinfo.progress = &monitor;
  jpeg_mem_src(&cinfo, (const unsigned char *)input, (unsigned long)input_length);
  jpeg_read_header(&cinfo, TRUE);
  int colour_ok = components == 1 ? cinfo.jpeg_color_space == JCS_GRAYSCALE
                                  : cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB;
  if (cinfo.image_width != width || cinfo.image_height != height || cinfo.num_components != (int)components ||
      !colour_ok) {
    jpeg_destroy_decompress(&cinfo);
    return NOT_AS_SAID;
  }
  cinfo.out_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_width != width || cinfo.output_height != height ||
      cinfo.output_components != (int)components) {
    jpeg_destroy_decompress(&cinfo);
    return NOT_AS_SAID;
  }
  size_t stride = (size_t)width * components;
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
  return DECODED;
}

struct arguments {
  void *input, *output;
  size_t input_length, output_length;
  uint32_t width, height, components;
  napi_value jpeg, out;
};

/* What is wrong with the arguments, or NULL when they are (Buffer, Buffer, width, height, 1 | 3) and fit. */
static const char *read_arguments(napi_env env, napi_callback_info info, struct arguments *a) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 ||
      napi_get_buffer_info(env, argv[0], &a->input, &a->input_length) != napi_ok ||
      napi_get_buffer_info(env, argv[1], &a->output, &a->output_length) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &a->width) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &a->height) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &a->components) != napi_ok)
    return "decode(jpeg: Buffer, out: Buffer, width, height, components)";
  if ((a->components != 1 && a->components != 3) ||
      (size_t)a->width * a->height * a->components != a->output_length)
    return "the output buffer is not width x height x components bytes";
  a->jpeg = argv[0];
  a->out = argv[1];
  return NULL;
}

static napi_value error_value(napi_env env, const char *text) {
  napi_value code, message, error;
  napi_create_string_utf8(env, "SKIFF_JPEG_DECODE", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  return error;
}

static napi_value js_boolean(napi_env env, int value) {
  napi_value result;
  napi_get_boolean(env, value != 0, &result);
  return result;
}

static napi_value decode(napi_env env, napi_callback_info info) {
  struct arguments a;
  const char *wrong = read_arguments(env, info, &a);
  if (wrong != NULL) {
    napi_throw_type_error(env, NULL, wrong);
    return NULL;
  }
  char text[JMSG_LENGTH_MAX];
  enum outcome outcome = decode_into(a.input, a.input_length, a.output, a.width, a.height, a.components, text);
  if (outcome == FAILED) {
    napi_throw(env, error_value(env, text));
    return NULL;
  }
  return js_boolean(env, outcome == DECODED);
}

struct job {
  struct arguments a;
  napi_ref jpeg, out;
  napi_deferred deferred;
  napi_async_work work;
  enum outcome outcome;
  char text[JMSG_LENGTH_MAX];
};

static void execute(napi_env env, void *data) {
  (void)env;
  struct job *job = data;
  job->outcome = decode_into(job->a.input, job->a.input_length, job->a.output, job->a.width, job->a.height,
                             job->a.components, job->text);
}

static void complete(napi_env env, napi_status status, void *data) {
  struct job *job = data;
  if (status != napi_ok) snprintf(job->text, sizeof job->text, "the decode was cancelled");
  if (status != napi_ok || job->outcome == FAILED)
    napi_reject_deferred(env, job->deferred, error_value(env, job->text));
  else
    napi_resolve_deferred(env, job->deferred, js_boolean(env, job->outcome == DECODED));
  napi_delete_reference(env, job->jpeg);
  napi_delete_reference(env, job->out);
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value decode_async(napi_env env, napi_callback_info info) {
  struct job *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  const char *wrong = read_arguments(env, info, &job->a);
  if (wrong != NULL) {
    free(job);
    napi_throw_type_error(env, NULL, wrong);
    return NULL;
  }
  napi_value promise, name;
  /* The buffers stay alive while libuv's thread writes into `out`. */
  if (napi_create_reference(env, job->a.jpeg, 1, &job->jpeg) != napi_ok ||
      napi_create_reference(env, job->a.out, 1, &job->out) != napi_ok ||
      napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "skiff:jpeg-decode", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    /* Only reachable when the environment is going away; what was made is left to it. */
    napi_throw_error(env, NULL, "the decode could not be queued");
    return NULL;
  }
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value sync, async;
  if (napi_create_function(env, "decode", NAPI_AUTO_LENGTH, decode, NULL, &sync) != napi_ok ||
      napi_set_named_property(env, exports, "decode", sync) != napi_ok ||
      napi_create_function(env, "decodeAsync", NAPI_AUTO_LENGTH, decode_async, NULL, &async) != napi_ok ||
      napi_set_named_property(env, exports, "decodeAsync", async) != napi_ok)
    return NULL;
  return exports;
}
