#version 330 core
// reslice.frag: samples a volume on a plane in patient millimetres, with
// slabs, window/level, inversion and colour maps. Mirrors the CPU
// reslicer in src/core/rr-reslice.c, which is its reference.

uniform sampler3D u_volume;
uniform sampler1D u_lut;
uniform vec3 u_center;      // patient point at the centre of the view
uniform vec3 u_right;       // patient mm per output pixel, along image x
uniform vec3 u_down;        // patient mm per output pixel, along image y
uniform vec3 u_normal;      // unit viewing direction
uniform vec2 u_size;        // output size in pixels
uniform vec2 u_offset;      // this viewport's origin in window pixels
uniform vec3 u_origin;      // patient position of voxel (0,0,0)
uniform mat3 u_inv;         // patient mm -> voxel index
uniform vec3 u_dims;
uniform float u_scale;      // texel value -> modality value
uniform vec2 u_window;      // lower bound, 255 / (width - 1)
uniform bool u_invert;
uniform int u_colormap;     // 0 grey, otherwise the LUT
uniform int u_slab_mode;    // 0 none, 1 MIP, 2 MinIP, 3 mean
uniform int u_slab_n;
uniform float u_slab_mm;
uniform float u_opacity;

out vec4 frag_color;

// Value at a patient point, or false outside the volume.
bool
value_at (vec3 p, out float v)
{
  vec3 ijk = u_inv * (p - u_origin);
  if (any (lessThan (ijk, vec3 (-0.5))) || any (greaterThan (ijk, u_dims - 0.5)))
    return false;
  // The half voxel at the border holds the border value (clamp to edge).
  vec3 t = (clamp (ijk, vec3 (0.0), u_dims - 1.0) + 0.5) / u_dims;
  v = texture (u_volume, t).r * u_scale;
  return true;
}

void
main ()
{
  vec2 px = vec2 (gl_FragCoord.x - u_offset.x, u_size.y - (gl_FragCoord.y - u_offset.y));
  vec3 p = u_center + (px.x - u_size.x * 0.5) * u_right + (px.y - u_size.y * 0.5) * u_down;
  float v = 0.0;
  float s;
  bool inside = false;

  if (u_slab_mode == 0 || u_slab_n < 2)
    {
      if (value_at (p, s))
        v = s, inside = true;
    }
  else
    {
      float acc = u_slab_mode == 2 ? 3.4e38 : -3.4e38;
      float sum = 0.0;
      int count = 0;
      float step = u_slab_mm / float (u_slab_n - 1);
      for (int i = 0; i < u_slab_n; i++)
        {
          vec3 q = p + u_normal * (-0.5 * u_slab_mm + float (i) * step);
          if (!value_at (q, s))
            continue;
          count++;
          sum += s;
          acc = u_slab_mode == 1 ? max (acc, s) : min (acc, s);
        }
      if (count > 0)
        v = u_slab_mode == 3 ? sum / float (count) : acc, inside = true;
    }

  // Outside the volume is black, whatever the window or inversion.
  if (!inside)
    {
      // A fused layer leaves what is under it alone where it has no data.
      frag_color = vec4 (0.0, 0.0, 0.0, u_opacity < 1.0 ? 0.0 : 1.0);
      return;
    }

  float g = clamp (floor ((v - u_window.x) * u_window.y + 0.5), 0.0, 255.0) / 255.0;
  if (u_invert)
    g = 1.0 - g;
  if (u_colormap == 0)
    frag_color = vec4 (g, g, g, u_opacity);
  else
    frag_color = vec4 (texture (u_lut, g).rgb, u_opacity);
}
