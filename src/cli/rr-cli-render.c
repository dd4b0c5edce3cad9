/* rr-cli-render.c: `readroom-cli render`: one resliced view of a series as
 * an 8-bit PNG, with the CPU reslicer the viewer is tested against. */
#include "rr-cli.h"
#include "rr-dicom.h"
#include "rr-reslice.h"
#include "rr-json-writer.h"
#include "rr-parse.h"

#include <png.h>
#include <stdio.h>
#include <errno.h>

static gboolean
write_png (const char *path, const guint8 *grey, guint w, guint h, GError **error)
{
  FILE *f = fopen (path, "wb");
  png_structp png;
  png_infop info;

  if (f == NULL)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  info = png ? png_create_info_struct (png) : NULL;
  if (png == NULL || info == NULL || setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      fclose (f);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "%s: cannot write PNG", path);
      return FALSE;
    }
  png_init_io (png, f);
  png_set_IHDR (png, info, w, h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  for (guint y = 0; y < h; y++)
    png_write_row (png, (png_const_bytep) (grey + (gsize) y * w));
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  if (fclose (f) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

int
rr_cli_render (int argc, char **argv)
{
  g_autofree char *series_uid = NULL, *plane_s = NULL, *at_s = NULL, *normal_s = NULL;
  g_autofree char *up_s = NULL, *wl_s = NULL, *mode_s = NULL, *size_s = NULL, *out_path = NULL;
  double slab = 0, mm = 0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "series", 0, 0, G_OPTION_ARG_STRING, &series_uid, "Series Instance UID", "UID" },
    { "plane", 0, 0, G_OPTION_ARG_STRING, &plane_s, "axial, coronal or sagittal", "PLANE" },
    { "at", 0, 0, G_OPTION_ARG_STRING, &at_s, "Patient point at the image centre", "X,Y,Z" },
    { "normal", 0, 0, G_OPTION_ARG_STRING, &normal_s, "Viewing direction of an oblique plane", "X,Y,Z" },
    { "up", 0, 0, G_OPTION_ARG_STRING, &up_s, "Patient direction shown up (with --normal)", "X,Y,Z" },
    { "wl", 0, 0, G_OPTION_ARG_STRING, &wl_s, "Window centre and width", "C,W" },
    { "slab", 0, 0, G_OPTION_ARG_DOUBLE, &slab, "Slab thickness", "MM" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode_s, "Slab mode: mip, minip or mean", "MODE" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size_s, "Output size (default 512,512)", "W,H" },
    { "mm-per-pixel", 0, 0, G_OPTION_ARG_DOUBLE, &mm, "Pixel size (default: fit the volume)", "MM" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "PNG to write", "OUT.png" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the view's geometry as JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("PATH");
  g_autoptr (GError) error = NULL;
  double v[3], n[3], u[3], wl[2], sz[2] = { 512, 512 };
  RrPlane plane;
  RrDicomSeries *se = NULL;

  g_option_context_set_summary (ctx, "Renders one resliced view of a series to a PNG.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return rr_cli_usage_error ("render", error->message);
  if (argc != 2)
    return rr_cli_usage_error ("render", "one PATH is needed");
  if (out_path == NULL)
    return rr_cli_usage_error ("render", "-o OUT.png is needed");
  if (size_s && (!rr_parse_doubles (size_s, sz, 2, 2, NULL) || sz[0] < 1 || sz[1] < 1 ||
                 sz[0] > 8192 || sz[1] > 8192))
    return rr_cli_usage_error ("render", "--size must be W,H between 1 and 8192");
  if ((normal_s == NULL) != (up_s == NULL))
    return rr_cli_usage_error ("render", "--normal and --up go together");
  if (normal_s && plane_s)
    return rr_cli_usage_error ("render", "--plane or --normal/--up, not both");
  if (normal_s && (!rr_parse_doubles (normal_s, n, 3, 3, NULL) ||
                   !rr_parse_doubles (up_s, u, 3, 3, NULL)))
    return rr_cli_usage_error ("render", "--normal and --up need X,Y,Z");
  /* A zero vector is no direction: said as such, not as "parallel". */
  if (normal_s && rr_vec3_length (rr_vec3 (n[0], n[1], n[2])) < 1e-9)
    return rr_cli_usage_error ("render", "--normal must not be zero");
  if (normal_s && rr_vec3_length (rr_vec3 (u[0], u[1], u[2])) < 1e-9)
    return rr_cli_usage_error ("render", "--up must not be zero");
  if (at_s && !rr_parse_doubles (at_s, v, 3, 3, NULL))
    return rr_cli_usage_error ("render", "--at needs X,Y,Z in millimetres");
  if (wl_s && (!rr_parse_doubles (wl_s, wl, 2, 2, NULL) || wl[1] <= 0))
    return rr_cli_usage_error ("render", "--wl needs CENTER,WIDTH with a positive width");
  if (slab < 0 || slab > 1000 || mm < 0)
    return rr_cli_usage_error ("render", "--slab and --mm-per-pixel must be positive");
  if (mode_s && !g_str_equal (mode_s, "mip") && !g_str_equal (mode_s, "minip") &&
      !g_str_equal (mode_s, "mean"))
    return rr_cli_usage_error ("render", "--mode must be mip, minip or mean");
  if (plane_s && !g_str_equal (plane_s, "axial") && !g_str_equal (plane_s, "coronal") &&
      !g_str_equal (plane_s, "sagittal"))
    return rr_cli_usage_error ("render", "--plane must be axial, coronal or sagittal");

  const char *paths[] = { argv[1], NULL };
  g_autoptr (RrDicomScan) scan = rr_dicom_scan (paths, 0, NULL, &error);
  if (scan == NULL)
    {
      g_printerr ("readroom-cli render: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  if (series_uid)
    se = rr_dicom_scan_find_series (scan, series_uid);
  else
    {
      guint n_images = 0;
      for (guint i = 0; i < scan->studies->len; i++)
        {
          RrDicomStudy *st = scan->studies->pdata[i];
          for (guint j = 0; j < st->series->len; j++)
            if (((RrDicomSeries *) st->series->pdata[j])->is_image)
              se = st->series->pdata[j], n_images++;
        }
      if (n_images > 1)
        return rr_cli_usage_error ("render", "several series: choose one with --series UID");
    }
  if (se == NULL || !se->is_image)
    {
      g_printerr ("readroom-cli render: %s: no image series %s\n", argv[1],
                  series_uid ? series_uid : "");
      return RR_EXIT_INPUT;
    }
  g_autoptr (RrVolume) vol = rr_dicom_series_load (se, 0, NULL, NULL, &error);
  if (vol == NULL)
    {
      g_printerr ("readroom-cli render: %s\n", error->message);
      return RR_EXIT_INPUT;
    }

  RrVec3 center = at_s ? rr_vec3 (v[0], v[1], v[2]) : rr_volume_center (vol);
  /* A point outside the series would give a blank image and exit 0: the
   * point is the input's, so it is refused naming the series' extent. */
  if (at_s)
    {
      double i, j, k;
      if (!rr_volume_patient_to_voxel (vol, center, &i, &j, &k) ||
          i < -0.5 || i > vol->dims[0] - 0.5 || j < -0.5 || j > vol->dims[1] - 0.5 ||
          k < -0.5 || k > vol->dims[2] - 0.5)
        {
          RrVec3 lo = rr_volume_voxel_to_patient (vol, 0, 0, 0);
          RrVec3 hi = lo;
          for (int c = 1; c < 8; c++)
            {
              RrVec3 p = rr_volume_voxel_to_patient (vol, c & 1 ? vol->dims[0] - 1 : 0,
                                                     c & 2 ? vol->dims[1] - 1 : 0,
                                                     c & 4 ? vol->dims[2] - 1 : 0);
              lo = rr_vec3 (MIN (lo.x, p.x), MIN (lo.y, p.y), MIN (lo.z, p.z));
              hi = rr_vec3 (MAX (hi.x, p.x), MAX (hi.y, p.y), MAX (hi.z, p.z));
            }
          g_printerr ("readroom-cli render: %s: --at %g,%g,%g is outside the series, which spans "
                      "x %.1f to %.1f, y %.1f to %.1f, z %.1f to %.1f mm\n", argv[1], v[0], v[1],
                      v[2], lo.x, hi.x, lo.y, hi.y, lo.z, hi.z);
          return RR_EXIT_INPUT;
        }
    }
  if (normal_s)
    {
      if (!rr_plane_init_oblique (&plane, rr_vec3 (n[0], n[1], n[2]), rr_vec3 (u[0], u[1], u[2]),
                                  center, 1, (guint) sz[0], (guint) sz[1]))
        return rr_cli_usage_error ("render", "--normal and --up must not be parallel");
    }
  else
    rr_plane_init_standard (&plane,
                            plane_s == NULL || g_str_equal (plane_s, "axial") ? RR_PLANE_AXIAL
                            : g_str_equal (plane_s, "coronal") ? RR_PLANE_CORONAL
                            : RR_PLANE_SAGITTAL,
                            center, 1, (guint) sz[0], (guint) sz[1]);
  plane.mm_per_pixel = mm > 0 ? mm : rr_plane_fit_mm_per_pixel (&plane, vol);
  if (slab > 0)
    {
      plane.slab_mm = slab;
      plane.slab_mode = mode_s == NULL || g_str_equal (mode_s, "mip") ? RR_SLAB_MIP
                        : g_str_equal (mode_s, "minip") ? RR_SLAB_MINIP : RR_SLAB_MEAN;
    }

  gsize npx = (gsize) plane.width * plane.height;
  g_autofree float *values = g_new (float, npx);
  g_autofree guint8 *grey = g_new (guint8, npx);
  double c = wl_s ? wl[0] : vol->window_center, w = wl_s ? wl[1] : vol->window_width;
  if (vol->type == RR_VOXEL_RGB8 && !wl_s)
    c = 127.5, w = 256;
  rr_reslice (vol, &plane, RR_RESLICE_OUTSIDE, 0, values);
  rr_window_to_grey (values, npx, c, w, vol->invert, grey);
  if (!write_png (out_path, grey, plane.width, plane.height, &error))
    {
      g_printerr ("readroom-cli render: %s\n", error->message);
      return RR_EXIT_INPUT;
    }
  if (json)
    {
      g_autoptr (RrJsonWriter) jw = rr_json_writer_new (TRUE);
      g_autofree char *l = rr_orientation_label (rr_vec3_scale (plane.right, -1));
      g_autofree char *r = rr_orientation_label (plane.right);
      g_autofree char *t = rr_orientation_label (rr_vec3_scale (plane.down, -1));
      g_autofree char *b = rr_orientation_label (plane.down);
      g_autofree char *text = NULL;
      rr_json_begin_object (jw);
      rr_json_key (jw, "output");
      rr_json_string (jw, out_path);
      rr_json_key (jw, "width");
      rr_json_int (jw, plane.width);
      rr_json_key (jw, "height");
      rr_json_int (jw, plane.height);
      rr_json_key (jw, "mm_per_pixel");
      rr_json_double (jw, plane.mm_per_pixel);
      rr_json_key (jw, "center_mm");
      rr_json_begin_array (jw);
      rr_json_double (jw, center.x);
      rr_json_double (jw, center.y);
      rr_json_double (jw, center.z);
      rr_json_end_array (jw);
      rr_json_key (jw, "window");
      rr_json_begin_array (jw);
      rr_json_double (jw, c);
      rr_json_double (jw, w);
      rr_json_end_array (jw);
      rr_json_key (jw, "orientation");
      rr_json_begin_object (jw);
      rr_json_key (jw, "left");
      rr_json_string (jw, l);
      rr_json_key (jw, "right");
      rr_json_string (jw, r);
      rr_json_key (jw, "top");
      rr_json_string (jw, t);
      rr_json_key (jw, "bottom");
      rr_json_string (jw, b);
      rr_json_end_object (jw);
      rr_json_end_object (jw);
      text = rr_json_writer_steal (jw);
      g_print ("%s", text);
    }
  return RR_EXIT_OK;
}
