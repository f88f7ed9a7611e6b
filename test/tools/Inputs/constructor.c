/* A shared object whose constructor leaves a mark: planted in an
   artifact's Code segment, it must not run where signatures are required. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void mark(void) {
  const char *path = getenv("MOEC_PLANTED_MARK");
  if (path) {
    FILE *f = fopen(path, "w");
    if (f)
      fclose(f);
  }
}
