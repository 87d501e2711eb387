/*
 * site-assets.h: the static site's stylesheet and search script
 * (site-assets.c), as NUL-terminated text.
 */
#ifndef HX_CLI_SITE_ASSETS_H
#define HX_CLI_SITE_ASSETS_H

extern const char hx_site_css[]; /* hansa.css */
extern const char hx_site_js[];  /* search.js */

#endif
