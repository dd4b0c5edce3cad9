/* rr-gl-reslicer.c: 3D textures and the reslice program. Shaders come from
 * the GResource; compile and link failures become a GError. */
#include "rr-gl-reslicer.h"

#include <epoxy/gl.h>
#include <gio/gio.h>
#include <string.h>

G_DEFINE_QUARK (rr-render-error-quark, rr_render_error)

struct _RrGlVolume
{
  RrVolume *volume;
  GLuint texture;
  float scale;
  RrMat3 inv;
  RrVec3 origin;
  gsize bytes;
  GLenum format, type;
  guint uploaded;         /* slices in the texture so far */
};

struct _RrGlReslicer
{
  GLuint program;
  GLuint vao;
  GLuint luts[RR_COLORMAP_COUNT];
  GHashTable *uniforms;
};

RrGlVolume *
rr_gl_volume_new (RrVolume  *volume,
                  GError   **error)
{
  RrGlVolume *glv = rr_gl_volume_new_deferred (volume, error);
  if (glv)
    rr_gl_volume_upload (glv, G_MAXINT64);
  return glv;
}

gboolean
rr_gl_volume_upload (RrGlVolume *glv,
                     gint64      budget_us)
{
  const RrVolume *v = glv->volume;
  gsize slice = (gsize) v->dims[0] * v->dims[1] * rr_voxel_type_size (v->type);
  gint64 start = g_get_monotonic_time ();

  if (glv->uploaded >= v->dims[2])
    return TRUE;
  glBindTexture (GL_TEXTURE_3D, glv->texture);
  glPixelStorei (GL_UNPACK_ALIGNMENT, 1);
  /* A few slices at a time, until the budget is spent: a 500-slice
   * volume in one call held the main thread for seconds on a software
   * driver. */
  while (glv->uploaded < v->dims[2])
    {
      guint n = MIN (8u, v->dims[2] - glv->uploaded);
      glTexSubImage3D (GL_TEXTURE_3D, 0, 0, 0, glv->uploaded, v->dims[0], v->dims[1], n,
                       glv->format, glv->type, (const guint8 *) v->voxels + glv->uploaded * slice);
      glv->uploaded += n;
      if (g_get_monotonic_time () - start >= budget_us)
        break;
    }
  return glv->uploaded >= v->dims[2];
}

RrGlVolume *
rr_gl_volume_new_deferred (RrVolume  *volume,
                           GError   **error)
{
  GLint max3d = 0;
  RrGlVolume *glv;
  GLenum internal, format, type;

  glGetIntegerv (GL_MAX_3D_TEXTURE_SIZE, &max3d);
  if ((GLint) volume->dims[0] > max3d || (GLint) volume->dims[1] > max3d ||
      (GLint) volume->dims[2] > max3d)
    {
      g_set_error (error, RR_RENDER_ERROR, RR_RENDER_ERROR_TOO_LARGE,
                   "%ux%ux%u voxels exceed the GPU's 3D texture limit of %d",
                   volume->dims[0], volume->dims[1], volume->dims[2], max3d);
      return NULL;
    }
  glv = g_new0 (RrGlVolume, 1);
  if (!rr_volume_regular_affine (volume, &glv->inv, &glv->origin))
    {
      g_free (glv);
      g_set_error (error, RR_RENDER_ERROR, RR_RENDER_ERROR_UNSUPPORTED,
                   "slices are unevenly spaced; this view is drawn on the CPU");
      return NULL;
    }
  switch (volume->type)
    {
    case RR_VOXEL_INT16:
      /* Signed normalised: filterable, exact for every int16. */
      internal = GL_R16_SNORM, format = GL_RED, type = GL_SHORT;
      glv->scale = 32767.0f;
      break;
    case RR_VOXEL_FLOAT32:
      internal = GL_R32F, format = GL_RED, type = GL_FLOAT;
      glv->scale = 1.0f;
      break;
    default:
      internal = GL_RGB8, format = GL_RGB, type = GL_UNSIGNED_BYTE;
      glv->scale = 255.0f;
      break;
    }
  glv->volume = rr_volume_ref (volume);
  glGenTextures (1, &glv->texture);
  glBindTexture (GL_TEXTURE_3D, glv->texture);
  glPixelStorei (GL_UNPACK_ALIGNMENT, 1);
  glTexParameteri (GL_TEXTURE_3D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  glTexParameteri (GL_TEXTURE_3D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
  glTexParameteri (GL_TEXTURE_3D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri (GL_TEXTURE_3D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glTexParameteri (GL_TEXTURE_3D, GL_TEXTURE_WRAP_R, GL_CLAMP_TO_EDGE);
  while (glGetError () != GL_NO_ERROR)
    ;
  /* Storage only: the voxels follow in rr_gl_volume_upload. Immutable
   * storage where the context has it: Mesa allocates it (and zero-fills
   * it) without the share group's texture lock, which it holds through a
   * glTexImage3D: a worker making a 64 MB volume held every other
   * context's texture uploads, GTK's frames included, for hundreds of ms. */
  if (epoxy_gl_version () >= 42 || epoxy_has_gl_extension ("GL_ARB_texture_storage"))
    glTexStorage3D (GL_TEXTURE_3D, 1, internal, volume->dims[0], volume->dims[1],
                    volume->dims[2]);
  else
    glTexImage3D (GL_TEXTURE_3D, 0, internal, volume->dims[0], volume->dims[1], volume->dims[2],
                  0, format, type, NULL);
  glv->format = format;
  glv->type = type;
  if (glGetError () != GL_NO_ERROR)
    {
      g_set_error (error, RR_RENDER_ERROR, RR_RENDER_ERROR_TOO_LARGE,
                   "the GPU could not hold %" G_GSIZE_FORMAT " MiB for this volume",
                   volume->n_bytes >> 20);
      rr_gl_volume_free (glv);
      return NULL;
    }
  /* What the driver holds, from the texture itself: the voxel bytes once
   * if the format is right. */
  {
    GLint w = 0, h = 0, d = 0, bits = 0;
    static const GLenum sizes[] = { GL_TEXTURE_RED_SIZE, GL_TEXTURE_GREEN_SIZE,
                                    GL_TEXTURE_BLUE_SIZE, GL_TEXTURE_ALPHA_SIZE };
    glGetTexLevelParameteriv (GL_TEXTURE_3D, 0, GL_TEXTURE_WIDTH, &w);
    glGetTexLevelParameteriv (GL_TEXTURE_3D, 0, GL_TEXTURE_HEIGHT, &h);
    glGetTexLevelParameteriv (GL_TEXTURE_3D, 0, GL_TEXTURE_DEPTH, &d);
    for (guint c = 0; c < G_N_ELEMENTS (sizes); c++)
      {
        GLint b = 0;
        glGetTexLevelParameteriv (GL_TEXTURE_3D, 0, sizes[c], &b);
        bits += b;
      }
    glv->bytes = (gsize) w * h * d * (gsize) bits / 8;
  }
  return glv;
}

void
rr_gl_fit_factors (const RrVolume *volume,
                   guint           max_3d,
                   gsize           budget,
                   guint           factor[3])
{
  factor[0] = factor[1] = factor[2] = 1;
  while (budget > 0 && max_3d > 0)
    {
      guint d[3];
      int longest = 0;
      for (int a = 0; a < 3; a++)
        d[a] = volume->dims[a] / factor[a];
      if ((gsize) d[0] * d[1] * d[2] * rr_voxel_type_size (volume->type) <= budget &&
          d[0] <= max_3d && d[1] <= max_3d && d[2] <= max_3d)
        break;
      for (int a = 1; a < 3; a++)
        if (d[a] > d[longest])
          longest = a;
      if (d[longest] < 2)
        break;
      factor[longest] *= 2;
    }
}

guint
rr_gl_max_3d_size (void)
{
  GLint max3d = 0;
  glGetIntegerv (GL_MAX_3D_TEXTURE_SIZE, &max3d);
  return (guint) MAX (max3d, 0);
}

RrGlVolume *
rr_gl_volume_new_within (RrVolume  *volume,
                         gsize      budget,
                         guint      factor[3],
                         GError   **error)
{
  g_autoptr (RrVolume) small = NULL;

  rr_gl_fit_factors (volume, rr_gl_max_3d_size (), budget, factor);
  if (factor[0] == 1 && factor[1] == 1 && factor[2] == 1)
    return rr_gl_volume_new (volume, error);
  small = rr_volume_downsample (volume, factor, error);
  if (small == NULL)
    return NULL;
  return rr_gl_volume_new (small, error);
}

void
rr_gl_volume_free (RrGlVolume *glv)
{
  if (glv == NULL)
    return;
  if (glv->texture)
    glDeleteTextures (1, &glv->texture);
  rr_volume_unref (glv->volume);
  g_free (glv);
}

gsize
rr_gl_volume_bytes (const RrGlVolume *glv)
{
  return glv->bytes;
}

RrVolume *
rr_gl_volume_get (RrGlVolume *glv)
{
  return glv->volume;
}

static GLuint
compile (GLenum kind, const char *resource, GError **error)
{
  g_autoptr (GBytes) src = g_resources_lookup_data (resource, 0, error);
  GLuint shader;
  GLint ok = 0;
  const char *text;
  GLint len;

  if (src == NULL)
    return 0;
  text = g_bytes_get_data (src, NULL);
  len = (GLint) g_bytes_get_size (src);
  shader = glCreateShader (kind);
  glShaderSource (shader, 1, &text, &len);
  glCompileShader (shader);
  glGetShaderiv (shader, GL_COMPILE_STATUS, &ok);
  if (!ok)
    {
      GLint log_len = 0;
      glGetShaderiv (shader, GL_INFO_LOG_LENGTH, &log_len);
      g_autofree char *log = g_malloc0 (MAX (log_len, 1) + 1);
      glGetShaderInfoLog (shader, log_len, NULL, log);
      g_set_error (error, RR_RENDER_ERROR, RR_RENDER_ERROR_SHADER, "%s does not compile: %s",
                   resource, log);
      glDeleteShader (shader);
      return 0;
    }
  return shader;
}

RrGlReslicer *
rr_gl_reslicer_new (GError **error)
{
  GLuint vs, fs;
  GLint ok = 0;
  RrGlReslicer *r;

  vs = compile (GL_VERTEX_SHADER, "/org/readroom/Readroom/shaders/reslice.vert", error);
  if (vs == 0)
    return NULL;
  fs = compile (GL_FRAGMENT_SHADER, "/org/readroom/Readroom/shaders/reslice.frag", error);
  if (fs == 0)
    {
      glDeleteShader (vs);
      return NULL;
    }
  r = g_new0 (RrGlReslicer, 1);
  r->program = glCreateProgram ();
  glAttachShader (r->program, vs);
  glAttachShader (r->program, fs);
  glLinkProgram (r->program);
  glDeleteShader (vs);
  glDeleteShader (fs);
  glGetProgramiv (r->program, GL_LINK_STATUS, &ok);
  if (!ok)
    {
      GLint log_len = 0;
      glGetProgramiv (r->program, GL_INFO_LOG_LENGTH, &log_len);
      g_autofree char *log = g_malloc0 (MAX (log_len, 1) + 1);
      glGetProgramInfoLog (r->program, log_len, NULL, log);
      g_set_error (error, RR_RENDER_ERROR, RR_RENDER_ERROR_SHADER,
                   "the reslice program does not link: %s", log);
      rr_gl_reslicer_free (r);
      return NULL;
    }
  glGenVertexArrays (1, &r->vao);
  glGenTextures (RR_COLORMAP_COUNT, r->luts);
  for (int m = 0; m < RR_COLORMAP_COUNT; m++)
    {
      guint8 rgb[256 * 3];
      rr_colormap_table ((RrColormap) m, rgb);
      glBindTexture (GL_TEXTURE_1D, r->luts[m]);
      glTexParameteri (GL_TEXTURE_1D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
      glTexParameteri (GL_TEXTURE_1D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
      glTexParameteri (GL_TEXTURE_1D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
      glPixelStorei (GL_UNPACK_ALIGNMENT, 1);
      glTexImage1D (GL_TEXTURE_1D, 0, GL_RGB8, 256, 0, GL_RGB, GL_UNSIGNED_BYTE, rgb);
    }
  r->uniforms = g_hash_table_new (g_str_hash, g_str_equal);
  return r;
}

void
rr_gl_reslicer_free (RrGlReslicer *r)
{
  if (r == NULL)
    return;
  if (r->program)
    glDeleteProgram (r->program);
  if (r->vao)
    glDeleteVertexArrays (1, &r->vao);
  if (r->luts[0])
    glDeleteTextures (RR_COLORMAP_COUNT, r->luts);
  if (r->uniforms)
    g_hash_table_unref (r->uniforms);
  g_free (r);
}

static GLint
loc (RrGlReslicer *r, const char *name)
{
  gpointer v;
  if (g_hash_table_lookup_extended (r->uniforms, name, NULL, &v))
    return GPOINTER_TO_INT (v) - 1;
  GLint l = glGetUniformLocation (r->program, name);
  g_hash_table_insert (r->uniforms, (gpointer) name, GINT_TO_POINTER (l + 1));
  return l;
}

static void
set3 (RrGlReslicer *r, const char *name, RrVec3 v)
{
  glUniform3f (loc (r, name), (float) v.x, (float) v.y, (float) v.z);
}

void
rr_gl_reslicer_draw (RrGlReslicer   *r,
                     RrGlVolume     *glv,
                     const RrPlane  *plane,
                     const RrGlLook *look,
                     int             x,
                     int             y)
{
  RrVolume *v = glv->volume;
  float inv[9];
  int slab_n = 1;

  /* Voxel index = inv * (p - origin); GLSL matrices are column-major. */
  for (int c = 0; c < 3; c++)
    {
      inv[c * 3 + 0] = (float) glv->inv.c[c].x;
      inv[c * 3 + 1] = (float) glv->inv.c[c].y;
      inv[c * 3 + 2] = (float) glv->inv.c[c].z;
    }
  if (plane->slab_mode != RR_SLAB_NONE && plane->slab_mm > 0)
    {
      double fine = MIN (MIN (v->spacing[0], v->spacing[1]), v->spacing[2]);
      slab_n = MAX (1, (int) ceil (plane->slab_mm / MAX (fine, 1e-3))) + 1;
      slab_n = MIN (slab_n, 1024);
    }

  glViewport (x, y, plane->width, plane->height);
  glUseProgram (r->program);
  glBindVertexArray (r->vao);
  glActiveTexture (GL_TEXTURE0);
  glBindTexture (GL_TEXTURE_3D, glv->texture);
  glUniform1i (loc (r, "u_volume"), 0);
  glActiveTexture (GL_TEXTURE1);
  glBindTexture (GL_TEXTURE_1D, r->luts[CLAMP (look->colormap, 0, RR_COLORMAP_COUNT - 1)]);
  glUniform1i (loc (r, "u_lut"), 1);
  set3 (r, "u_center", plane->center);
  set3 (r, "u_right", rr_vec3_scale (plane->right, plane->mm_per_pixel));
  set3 (r, "u_down", rr_vec3_scale (plane->down, plane->mm_per_pixel));
  set3 (r, "u_normal", rr_plane_normal (plane));
  glUniform2f (loc (r, "u_size"), plane->width, plane->height);
  glUniform2f (loc (r, "u_offset"), x, y);
  set3 (r, "u_origin", glv->origin);
  glUniformMatrix3fv (loc (r, "u_inv"), 1, GL_FALSE, inv);
  glUniform3f (loc (r, "u_dims"), v->dims[0], v->dims[1], v->dims[2]);
  glUniform1f (loc (r, "u_scale"), glv->scale);
  glUniform2f (loc (r, "u_window"), (float) (look->center - 0.5 - (look->width - 1) / 2),
               (float) (255.0 / MAX (look->width - 1, 1e-6)));
  glUniform1i (loc (r, "u_invert"), look->invert);
  glUniform1i (loc (r, "u_colormap"), look->colormap);
  glUniform1i (loc (r, "u_slab_mode"), slab_n > 1 ? plane->slab_mode : 0);
  glUniform1i (loc (r, "u_slab_n"), slab_n);
  glUniform1f (loc (r, "u_slab_mm"), (float) plane->slab_mm);
  glUniform1f (loc (r, "u_opacity"), (float) (look->opacity > 0 ? look->opacity : 1.0));
  if (look->opacity > 0 && look->opacity < 1)
    {
      glEnable (GL_BLEND);
      /* Colour blends; the framebuffer stays opaque for the compositor. */
      glBlendFuncSeparate (GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ZERO, GL_ONE);
    }
  else
    glDisable (GL_BLEND);
  glDrawArrays (GL_TRIANGLES, 0, 3);
  glDisable (GL_BLEND);
  glBindVertexArray (0);
  glUseProgram (0);
}

void
rr_gl_reslicer_warm (RrGlReslicer *r)
{
  static const guint dims[3] = { 2, 2, 2 };
  rr_gl_reslicer_warm_volume (r, RR_VOXEL_INT16, dims);
}

void
rr_gl_reslicer_warm_volume (RrGlReslicer *r,
                            RrVoxelType   type,
                            const guint   dims[3])
{
  g_autoptr (RrVolume) v = rr_volume_new (dims, type, NULL);
  RrGlLook look = { 40, 400, FALSE, RR_COLORMAP_GREY, 1 };
  GLint bound = 0, viewport[4];
  GLuint fbo = 0, target = 0;
  RrGlVolume *glv;
  RrPlane pl;

  if (v == NULL)
    return;
  v->spacing[0] = v->spacing[1] = v->spacing[2] = 1;
  for (guint k = 0; k < dims[2]; k++)
    v->slice_pos[k] = rr_vec3 (0, 0, k);
  if (!rr_volume_finish_geometry (v, NULL) || (glv = rr_gl_volume_new (v, NULL)) == NULL)
    return;
  glGetIntegerv (GL_FRAMEBUFFER_BINDING, &bound);
  glGetIntegerv (GL_VIEWPORT, viewport);
  /* The target as GtkGLArea 4.8 makes its own: RGBA8 filled as BGRA, which
   * Mesa stores as BGRA; llvmpipe's code depends on that layout too. */
  glGenTextures (1, &target);
  glBindTexture (GL_TEXTURE_2D, target);
  glTexImage2D (GL_TEXTURE_2D, 0, GL_RGBA8, 1, 1, 0, GL_BGRA, GL_UNSIGNED_BYTE, NULL);
  glGenFramebuffers (1, &fbo);
  glBindFramebuffer (GL_FRAMEBUFFER, fbo);
  glFramebufferTexture2D (GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, target, 0);
  rr_plane_init_oblique (&pl, rr_vec3 (0, 0, 1), rr_vec3 (0, -1, 0), rr_vec3 (0.5, 0.5, 0.5), 1,
                         1, 1);
  rr_gl_reslicer_draw (r, glv, &pl, &look, 0, 0);
  /* The pixel is drawn now, not at the first frame's flush: llvmpipe
   * builds the rest of its code for the draw then. */
  glFinish ();
  glBindFramebuffer (GL_FRAMEBUFFER, bound);
  glViewport (viewport[0], viewport[1], viewport[2], viewport[3]);
  glDeleteFramebuffers (1, &fbo);
  glDeleteTextures (1, &target);
  rr_gl_volume_free (glv);
}
