// The peer that docs/perf.md compares moec's decode with: a hand-written
// AVX-512 bf16 matrix-vector product over the weights of a .moec file as
// moec-run maps them (read-only, from the page cache), rows of 4096 split
// across OpenMP threads, two 16-lane f32 accumulators per row. Prints the
// GB/s of five passes over 3 GiB starting 1 GiB into the file.
//
//   clang-22 -O2 -march=native -fopenmp peer-matvec.c -o peer-matvec
//   OMP_NUM_THREADS=2 ./peer-matvec model.moec
#include <fcntl.h>
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static __m512 widen(const unsigned short *p) {
  __m256i half = _mm256_loadu_si256((const __m256i *)p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
}

static float dot(const unsigned short *w, const float *x, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0;
  for (size_t i = 0; i < n; i += 32) {
    a0 = _mm512_fmadd_ps(widen(w + i), _mm512_loadu_ps(x + i), a0);
    a1 = _mm512_fmadd_ps(widen(w + i + 16), _mm512_loadu_ps(x + i + 16), a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE (at least 4 GiB)\n", argv[0]);
    return 2;
  }
  const size_t bytes = 3ull << 30, cols = 4096, rows = bytes / 2 / cols;
  int fd = open(argv[1], O_RDONLY);
  const unsigned short *w =
      fd < 0 ? MAP_FAILED
             : mmap(0, bytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 1ull << 30);
  if (w == MAP_FAILED) {
    perror(argv[1]);
    return 1;
  }
  float *x = aligned_alloc(64, cols * sizeof(float));
  float *y = malloc(rows * sizeof(float));
  for (size_t i = 0; i < cols; ++i)
    x[i] = 1.0f;
  for (int pass = 0; pass < 5; ++pass) {
    double start = now();
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; ++r)
      y[r] = dot(w + r * cols, x, cols);
    printf("threads %d: %.1f GB/s\n", omp_get_max_threads(),
           bytes / (now() - start) / 1e9);
  }
  return 0;
}
