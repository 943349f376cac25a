/* valueprov.h — /metrics samples by selector for common/valuesrc.h
 * (valueprov.c). */
#pragma once

/* A valuesrc_fn: 1 with *ret, 0 when no sample matches, -ENOTUNIQ when
 * several do, -EINVAL for a bad selector, -errno when the scrape failed. */
int valueprov_metric(const char *selector, double *ret);
/* Drops the cached scrape. */
void valueprov_done(void);
