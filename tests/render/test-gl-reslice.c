/* test-gl-reslice.c: the GPU reslicer against the CPU reference, on a
 * phantom loaded from DICOM, through an offscreen EGL context (Mesa
 * llvmpipe here). Tolerance: 8-bit outputs may differ by 2 grey levels
 * (texture filtering precision), on at most 0.5% of pixels by more. */
#include "rr-gl-reslicer.h"
#include "rr-dicom.h"
#include "rr-phantom.h"

#include "rr-gl-offscreen.h"
#include <epoxy/gl.h>
#include <string.h>

static RrVolume *volume;
static RrGlVolume *glv;
static RrGlReslicer *reslicer;
static GLuint fbo, rbo;

#define W 160
#define H 120

static void
compare (const RrPlane *plane, const char *what)
{
  RrGlLook look = { volume->window_center, volume->window_width, FALSE, RR_COLORMAP_GREY, 1 };
  g_autofree guint8 *gl = g_new (guint8, W * H * 4);
  g_autofree float *cpu_v = g_new (float, W * H);
  g_autofree guint8 *cpu = g_new (guint8, W * H);
  guint off = 0, far = 0, bright = 0;
  int max_diff = 0;

  glBindFramebuffer (GL_FRAMEBUFFER, fbo);
  glClearColor (1, 0, 1, 1);
  glClear (GL_COLOR_BUFFER_BIT);
  rr_gl_reslicer_draw (reslicer, glv, plane, &look, 0, 0);
  glPixelStorei (GL_PACK_ALIGNMENT, 1);
  glReadPixels (0, 0, W, H, GL_RGBA, GL_UNSIGNED_BYTE, gl);
  g_assert_cmpint (glGetError (), ==, GL_NO_ERROR);

  rr_reslice (volume, plane, RR_RESLICE_OUTSIDE, 0, cpu_v);
  rr_window_to_grey (cpu_v, W * H, look.center, look.width, FALSE, cpu);
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++)
      {
        /* GL rows run bottom-up. */
        int g = gl[((H - 1 - y) * W + x) * 4];
        int c = cpu[y * W + x];
        int d = ABS (g - c);
        max_diff = MAX (max_diff, d);
        off += d > 0;
        far += d > 2;
        bright += c > 20;
      }
  g_test_message ("%s: %u of %u pixels differ, %u by more than 2, max %d", what, off, W * H,
                  far, max_diff);
  /* The view must show something, or the comparison proves nothing. */
  g_assert_cmpuint (bright, >, W * H / 20);
  g_assert_cmpuint (far, <=, W * H / 200);
}

static void
test_planes (void)
{
  RrPlane pl;
  RrVec3 c = rr_vec3 (-40, 40, 0);
  for (int kind = RR_PLANE_AXIAL; kind <= RR_PLANE_SAGITTAL; kind++)
    {
      rr_plane_init_standard (&pl, kind, c, 1.3, W, H);
      compare (&pl, kind == RR_PLANE_AXIAL ? "axial" : kind == RR_PLANE_CORONAL ? "coronal"
                                                                                 : "sagittal");
    }
  g_assert_true (rr_plane_init_oblique (&pl, rr_vec3 (1, 1, 1), rr_vec3 (0, 0, 1), c, 1.1, W, H));
  compare (&pl, "oblique");
}

static void
test_slabs (void)
{
  RrPlane pl;
  rr_plane_init_standard (&pl, RR_PLANE_CORONAL, rr_vec3 (-40, 50, 0), 1.3, W, H);
  pl.slab_mm = 30;
  pl.slab_mode = RR_SLAB_MIP;
  compare (&pl, "coronal MIP 30 mm");
  pl.slab_mode = RR_SLAB_MEAN;
  compare (&pl, "coronal mean 30 mm");
  pl.slab_mode = RR_SLAB_MINIP;
  rr_plane_init_standard (&pl, RR_PLANE_AXIAL, rr_vec3 (-40, 40, 0), 1.3, W, H);
  pl.slab_mm = 10;
  pl.slab_mode = RR_SLAB_MINIP;
  compare (&pl, "axial MinIP 10 mm");
}

static gsize
available_memory (void)
{
  g_autofree char *text = NULL;
  const char *m;
  if (!g_file_get_contents ("/proc/meminfo", &text, NULL, NULL))
    return 0;
  m = strstr (text, "MemAvailable:");
  return m ? (gsize) g_ascii_strtoull (m + 13, NULL, 10) << 10 : 0;
}

/* A 2,000-slice 512 x 512 CT: uploaded whole, or down-sampled within a
 * budget; never a black view. */
static void
test_large (void)
{
  guint dims[3] = { 512, 512, 2000 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RrVolume) big = NULL;
  RrGlLook look = { 0, 2000, FALSE, RR_COLORMAP_GREY, 1 };
  RrPlane pl;
  guint f[3];
  g_autofree guint8 *gl = g_new (guint8, W * H * 4);
  g_autofree float *cpu_v = g_new (float, W * H);
  g_autofree guint8 *cpu = g_new (guint8, W * H);

  if (available_memory () < ((gsize) 5 << 30))
    {
      g_test_skip ("needs 5 GiB of free memory");
      return;
    }
  big = rr_volume_new (dims, RR_VOXEL_INT16, &error);
  g_assert_no_error (error);
  big->spacing[0] = big->spacing[1] = 0.7;
  for (guint k = 0; k < dims[2]; k++)
    big->slice_pos[k] = rr_vec3 (-179, -179, -500 + k * 0.5);
  g_assert_true (rr_volume_finish_geometry (big, &error));
  /* A smooth field, so a down-sampled view stays close to the original. */
  for (guint k = 0; k < dims[2]; k++)
    for (guint j = 0; j < dims[1]; j++)
      {
        gint16 *row = (gint16 *) big->voxels + ((gsize) k * dims[1] + j) * dims[0];
        for (guint i = 0; i < dims[0]; i++)
          row[i] = (gint16) (800 * sin (i / 40.0) + 600 * cos (j / 55.0) + 300 * sin (k / 90.0));
      }
  rr_plane_init_standard (&pl, RR_PLANE_CORONAL, rr_volume_center (big), 8, W, H);

  for (int round = 0; round < 2; round++)
    {
      /* Round 0: the whole volume; round 1: within 64 MiB. */
      RrGlVolume *g = rr_gl_volume_new_within (big, round == 0 ? ((gsize) 4 << 30) : (64u << 20),
                                               f, &error);
      double sum = 0;
      guint lit = 0, cpu_lit = 0;
      g_assert_no_error (error);
      g_assert_nonnull (g);
      if (round == 0)
        g_assert_cmpuint (f[0] * f[1] * f[2], ==, 1);
      else
        {
          g_assert_cmpuint (f[0] * f[1] * f[2], >, 1);
          g_assert_cmpuint (rr_gl_volume_bytes (g), <=, 64u << 20);
        }
      glBindFramebuffer (GL_FRAMEBUFFER, fbo);
      glClearColor (1, 0, 1, 1);
      glClear (GL_COLOR_BUFFER_BIT);
      rr_gl_reslicer_draw (reslicer, g, &pl, &look, 0, 0);
      glReadPixels (0, 0, W, H, GL_RGBA, GL_UNSIGNED_BYTE, gl);
      rr_reslice (big, &pl, RR_RESLICE_OUTSIDE, 0, cpu_v);
      rr_window_to_grey (cpu_v, W * H, look.center, look.width, FALSE, cpu);
      for (guint y = 0; y < H; y++)
        for (guint x = 0; x < W; x++)
          {
            int a = gl[((H - 1 - y) * W + x) * 4], b = cpu[y * W + x];
            sum += ABS (a - b);
            lit += a > 0;
            cpu_lit += b > 0;
          }
      g_test_message ("large, %s: mean difference %.2f grey levels, factors %ux%ux%u",
                      round == 0 ? "whole" : "64 MiB", sum / (W * H), f[0], f[1], f[2]);
      g_assert_cmpuint (cpu_lit, >, W * H / 10);
      g_assert_cmpuint (lit, >=, cpu_lit * 95 / 100);
      g_assert_cmpfloat (sum / (W * H), <, round == 0 ? 0.1 : 3.0);
      rr_gl_volume_free (g);
    }
}

static void
test_one_texture_per_volume (void)
{
  /* The driver holds the voxel bytes once (int16 as 16-bit texels, not
   * widened to float), however many views draw from it. */
  g_assert_cmpuint (rr_gl_volume_bytes (glv), ==, volume->n_bytes);
  g_assert_cmpuint (volume->type, ==, RR_VOXEL_INT16);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autoptr (RrPhantomSpec) spec = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  if (!rr_gl_offscreen_make_current (&error))
    {
      g_printerr ("skipped: %s\n", error->message);
      return 77;
    }
  rr_dicom_init ();
  dir = g_dir_make_tmp ("rr-gl-XXXXXX", NULL);
  spec = rr_phantom_spec_new (RR_PHANTOM_CT);
  spec->rows = spec->columns = 160;
  spec->row_spacing = spec->col_spacing = 2.2;
  spec->slices = 50;
  spec->slice_spacing = spec->slice_thickness = 3;
  spec->noise_sd = 0;
  rr_phantom_spec_add_lesion (spec, rr_vec3 (-40, 40, 0), 30, 300);
  g_assert_true (rr_phantom_write (spec, dir, NULL, &error));
  volume = rr_dicom_load_path (dir, &error);
  g_assert_no_error (error);
  volume->window_center = 40;
  volume->window_width = 400;

  glv = rr_gl_volume_new (volume, &error);
  g_assert_no_error (error);
  reslicer = rr_gl_reslicer_new (&error);
  g_assert_no_error (error);
  glGenFramebuffers (1, &fbo);
  glGenRenderbuffers (1, &rbo);
  glBindRenderbuffer (GL_RENDERBUFFER, rbo);
  glRenderbufferStorage (GL_RENDERBUFFER, GL_RGBA8, W, H);
  glBindFramebuffer (GL_FRAMEBUFFER, fbo);
  glFramebufferRenderbuffer (GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rbo);
  g_assert_cmpint (glCheckFramebufferStatus (GL_FRAMEBUFFER), ==, GL_FRAMEBUFFER_COMPLETE);
  g_test_message ("GL: %s, %s", glGetString (GL_RENDERER), glGetString (GL_VERSION));

  g_test_add_func ("/gl/planes", test_planes);
  g_test_add_func ("/gl/slabs", test_slabs);
  g_test_add_func ("/gl/one-texture", test_one_texture_per_volume);
  g_test_add_func ("/gl/large", test_large);
  ret = g_test_run ();
  rr_gl_reslicer_free (reslicer);
  rr_gl_volume_free (glv);
  rr_volume_unref (volume);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", dir);
  }
  return ret;
}
