/*
 * Strata's own native addon (Node-API, plain C): calls that Node's fs makes once per file and that
 * one C call can make for thousands. Built by native-bindings/build-native.ts at `npm run build`;
 * every function has a pure-JS fallback with the same output (native-bindings/stat-batch.ts).
 *
 * lstatMany(paths, count, out): lstat(2) of `count` NUL-terminated UTF-8 paths, packed back to back
 * in the Uint8Array `paths`, into the Float64Array `out` (STAT_FIELDS numbers per path, in the order
 * of the F_* constants below; times in milliseconds computed exactly as Node computes `mtimeMs`).
 * Large batches are split over a few threads: on a 2-vCPU VM a syscall costs ~3 us, and the kernel's
 * path walks run in parallel.
 *
 * lstatSnapshot(root, spec, rows): the same for a directory snapshot's paths, built here instead of
 * in JS (~16 ms of string building for 9,500 paths): `spec` holds, per row, the directory's
 * root-relative path and its items (engine/discovery/directory-snapshot.ts: a kind character and a
 * name, joined by '/'), each NUL-terminated. Each row's directory is stat'ed, then each of its 'f'
 * items, in order. Answers [stats: Float64Array, dirIndex: Int32Array]: row r's directory at
 * dirIndex[r], its k-th file at dirIndex[r] + 1 + k.
 *
 * validateAstColumns(bytes, nodeCount, textLength, posOffset, endOffset, subtreeEndOffset): the
 * structural check of an encoded AST (engine/ast/encoded-ast.ts, EncodedAst.decode), every node's
 * pos <= end <= textLength and properly nested subtrees, in one pass. Answers -1 when valid, else the
 * first node found wrong (the JS check then says what is wrong with it). Cache files are untrusted:
 * every column is bounds-checked against the buffer before it is read.
 *
 * firstStatDifference(stats, dirIndex, expected, maxFileSize, tolerance): the restart receipt's
 * comparison (engine/restart/receipt-check.ts) of lstatSnapshot's output with the stamps expected per
 * path (EXPECTED_FIELDS doubles: size, mtimeMs, ctimeMs, ino, dev). Answers -1 when every path is as
 * expected, the index of the first path that is not, or the path count when dirIndex does not fit.
 * native-bindings/stat-compare.ts holds the rules and the JS version they are tested against.
 *
 * checkSnapshot(root, spec, rows, expected, maxFileSize, tolerance): lstatSnapshot and
 * firstStatDifference in one pass, each thread stopping at its first difference (no stats array).
 *
 * xxh64(bytes): XXH64 (seed 0) of a Uint8Array, as a BigInt (native-bindings/hash.ts: the same
 * numbers as @node-rs/xxhash and the JS port, checked when it loads; one addon loaded instead of two).
 * xxh64File(path, from): the same of a file's bytes from an offset, read through one 64 KiB buffer;
 * null when it cannot be read.
 *
 * lz4UnpackAst(payload, packedLength): a persisted AST entry's lz4 payload (lz4-block-v1: a u32 size
 * prefix, then one raw LZ4 block) decompressed into a scratch buffer, widened from its packed columns
 * (shared/packed-ast.ts) into a new ArrayBuffer laid out as shared/ast-format.ts says, and its columns
 * checked as validateAstColumns checks them, all in one call: the packed bytes stay in the CPU's
 * caches and each widened value is checked while it is in a register. Answers the encoded AST (a
 * Uint8Array over its own ArrayBuffer), or a number when anything is off (1: the lz4 block, 2: the
 * packed layout, 3: a column's values); the caller then runs its JS path, which says what is wrong.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

enum { F_ERRNO, F_MODE, F_SIZE, F_MTIME_MS, F_CTIME_MS, F_INO, F_DEV, F_NLINK, STAT_FIELDS };
/* What the restart receipt expects of each path (native-bindings/stat-compare.ts). */
enum { E_SIZE, E_MTIME_MS, E_CTIME_MS, E_INO, E_DEV, EXPECTED_FIELDS };

/* Below this many paths per thread a thread costs more than it saves. */
#define PATHS_PER_THREAD 1024
#define MAX_THREADS 8

typedef struct {
  const char *const *paths;
  uint32_t from;
  uint32_t to;
  double *out;
} stat_job;

/* Fills one path's fields from lstat(2). */
static void stat_into(const char *path, double *o);

static double ms_of(struct timespec t) {
  /* Node: sec * 1e3 + nsec / 1e6, in doubles. */
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void stat_failed(double *o, int error) {
  o[F_ERRNO] = (double)error;
  for (int f = F_MODE; f < STAT_FIELDS; f++) o[f] = 0;
}

static void stat_into(const char *path, double *o) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    stat_failed(o, errno);
    return;
  }
  o[F_ERRNO] = 0;
  o[F_MODE] = (double)st.st_mode;
  o[F_SIZE] = (double)st.st_size;
  o[F_MTIME_MS] = ms_of(st.st_mtim);
  o[F_CTIME_MS] = ms_of(st.st_ctim);
  o[F_INO] = (double)st.st_ino;
  o[F_DEV] = (double)st.st_dev;
  o[F_NLINK] = (double)st.st_nlink;
}

static void *stat_range(void *arg) {
  const stat_job *job = (const stat_job *)arg;
  for (uint32_t i = job->from; i < job->to; i++) stat_into(job->paths[i], job->out + (size_t)i * STAT_FIELDS);
  return NULL;
}

/* How many threads for `count` paths. */
static uint32_t threads_for(uint32_t count) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  uint32_t threads = count / PATHS_PER_THREAD;
  if (threads < 1) threads = 1;
  if (cpus > 0 && threads > (uint32_t)cpus) threads = (uint32_t)cpus;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  return threads;
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_STRATA_NATIVE", message);
  return NULL;
}

/* The data of a typed-array argument of the given type; 0 when it is not one (the caller throws). */
static int typed_arg(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  return napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) == napi_ok && type == want;
}

/* Runs fn over `threads` jobs of `size` bytes each: the first on this thread, the others on their own. */
static void run_jobs(void *(*fn)(void *), void *jobs, size_t size, uint32_t threads) {
  pthread_t ids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (uint32_t t = 1; t < threads; t++) started[t] = pthread_create(&ids[t], NULL, fn, (char *)jobs + t * size) == 0;
  fn(jobs);
  for (uint32_t t = 1; t < threads; t++) {
    if (started[t]) pthread_join(ids[t], NULL);
    else fn((char *)jobs + t * size); /* a thread that could not start: its range runs here */
  }
}

static napi_value lstat_many(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, "lstatMany(paths, count, out)");
  size_t length, out_length;
  void *data, *out;
  uint32_t count;
  if (!typed_arg(env, argv[0], napi_uint8_array, &data, &length)) return fail(env, "paths: a Uint8Array");
  if (napi_get_value_uint32(env, argv[1], &count) != napi_ok) return fail(env, "count: a uint32");
  if (!typed_arg(env, argv[2], napi_float64_array, &out, &out_length)) return fail(env, "out: a Float64Array");
  if (out_length < (size_t)count * STAT_FIELDS) return fail(env, "out: too short for count paths");
  if (count == 0) return NULL;
  if (length == 0 || ((const char *)data)[length - 1] != '\0') return fail(env, "paths: not NUL-terminated");

  const char **paths = malloc(sizeof(char *) * count);
  if (paths == NULL) return fail(env, "out of memory");
  const char *at = (const char *)data;
  const char *end = at + length;
  for (uint32_t i = 0; i < count; i++) {
    if (at >= end) {
      free(paths);
      return fail(env, "paths: fewer than count");
    }
    paths[i] = at;
    at += strlen(at) + 1;
  }
  uint32_t threads = threads_for(count);
  stat_job jobs[MAX_THREADS];
  for (uint32_t t = 0; t < threads; t++) {
    jobs[t] = (stat_job){paths, (uint32_t)((uint64_t)count * t / threads), (uint32_t)((uint64_t)count * (t + 1) / threads), (double *)out};
  }
  run_jobs(stat_range, jobs, sizeof(stat_job), threads);
  free(paths);
  return NULL;
}

typedef struct {
  const char *rel;
  size_t rel_length;
  const char *items;
} snapshot_row;

typedef struct {
  const char *root;
  size_t root_length;
  const snapshot_row *rows;
  const int32_t *dir_index;
  uint32_t from;
  uint32_t to;
  /* lstatSnapshot: each path's fields are stored here ... */
  double *out;
  /* ... checkSnapshot: or compared with these (EXPECTED_FIELDS per path), the first difference kept. */
  const double *expected;
  double max_file_size;
  double tolerance;
  int64_t first;
} snapshot_job;

static int as_expected(const double *o, const double *e, int is_directory, double max_file_size, double tolerance);

/* One path's stat, stored or compared; answers 0 once a compared path differs (the job stops). */
static int take(snapshot_job *job, const double *o, size_t index, int is_directory) {
  if (job->expected == NULL) {
    memcpy(job->out + index * STAT_FIELDS, o, sizeof(double) * STAT_FIELDS);
    return 1;
  }
  if (as_expected(o, job->expected + index * EXPECTED_FIELDS, is_directory, job->max_file_size, job->tolerance)) return 1;
  job->first = (int64_t)index;
  return 0;
}

static void *stat_rows(void *arg) {
  snapshot_job *job = (snapshot_job *)arg;
  char path[PATH_MAX + 1];
  double o[STAT_FIELDS];
  for (uint32_t r = job->from; r < job->to; r++) {
    const snapshot_row *row = &job->rows[r];
    size_t index = (size_t)job->dir_index[r];
    size_t dir_length = job->root_length + (row->rel_length > 0 ? 1 + row->rel_length : 0);
    int fits = dir_length <= PATH_MAX;
    if (fits) {
      memcpy(path, job->root, job->root_length);
      if (row->rel_length > 0) {
        path[job->root_length] = '/';
        memcpy(path + job->root_length + 1, row->rel, row->rel_length);
      }
      path[dir_length] = '\0';
      stat_into(path, o);
    } else {
      stat_failed(o, ENAMETOOLONG);
    }
    if (!take(job, o, index++, 1)) return NULL;
    for (const char *item = row->items; *item != '\0';) {
      const char *end = item;
      while (*end != '\0' && *end != '/') end++;
      if (*item == 'f') {
        size_t name_length = (size_t)(end - item - 1);
        if (fits && dir_length + 1 + name_length <= PATH_MAX) {
          path[dir_length] = '/';
          memcpy(path + dir_length + 1, item + 1, name_length);
          path[dir_length + 1 + name_length] = '\0';
          stat_into(path, o);
        } else {
          stat_failed(o, ENAMETOOLONG);
        }
        if (!take(job, o, index++, 0)) return NULL;
      }
      item = *end == '/' ? end + 1 : end;
    }
  }
  return NULL;
}

/* The rows of a snapshot spec, and where each row's paths start; NULL (with a thrown error) when malformed. */
static snapshot_row *parse_spec(napi_env env, const char *at, size_t length, uint32_t rows, int32_t *dir_index, size_t *total_out) {
  if (length == 0 || at[length - 1] != '\0') return (fail(env, "spec: not NUL-terminated"), NULL);
  snapshot_row *parsed = malloc(sizeof(snapshot_row) * (rows > 0 ? rows : 1));
  if (parsed == NULL) return (fail(env, "out of memory"), NULL);
  const char *end = at + length;
  size_t total = 0;
  const char *problem = NULL;
  for (uint32_t r = 0; r < rows && problem == NULL; r++) {
    if (at >= end) {
      problem = "spec: fewer than `rows` rows";
      break;
    }
    parsed[r].rel = at;
    parsed[r].rel_length = strlen(at);
    at += parsed[r].rel_length + 1;
    if (at >= end) {
      problem = "spec: a row without items";
      break;
    }
    parsed[r].items = at;
    size_t files = 0;
    for (const char *item = at; *item != '\0'; item++) {
      if ((item == at || item[-1] == '/') && *item == 'f') files++;
    }
    at += strlen(at) + 1;
    if (total + 1 + files > INT32_MAX) problem = "spec: too many paths";
    dir_index[r] = (int32_t)total;
    total += 1 + files;
  }
  if (problem == NULL && at != end) problem = "spec: not `rows` rows";
  if (problem != NULL) {
    free(parsed);
    return (fail(env, problem), NULL);
  }
  *total_out = total;
  return parsed;
}

/* Runs the jobs over the rows, split so that each thread gets about as many paths. */
static void run_rows(snapshot_job *template, const snapshot_row *parsed, const int32_t *dir_index, uint32_t rows, size_t total, snapshot_job *jobs) {
  uint32_t threads = threads_for((uint32_t)total);
  uint32_t row = 0;
  for (uint32_t t = 0; t < threads; t++) {
    size_t target = total * (t + 1) / threads;
    jobs[t] = *template;
    jobs[t].rows = parsed;
    jobs[t].dir_index = dir_index;
    jobs[t].from = row;
    while (row < rows && (t == threads - 1 || (size_t)dir_index[row] < target)) row++;
    jobs[t].to = row;
  }
  run_jobs(stat_rows, jobs, sizeof(snapshot_job), threads);
}

static napi_value lstat_snapshot(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, "lstatSnapshot(root, spec, rows)");
  size_t root_length, length;
  void *root, *data;
  uint32_t rows;
  if (!typed_arg(env, argv[0], napi_uint8_array, &root, &root_length)) return fail(env, "root: a Uint8Array");
  if (!typed_arg(env, argv[1], napi_uint8_array, &data, &length)) return fail(env, "spec: a Uint8Array");
  if (napi_get_value_uint32(env, argv[2], &rows) != napi_ok) return fail(env, "rows: a uint32");
  if (memchr(root, '\0', root_length) != NULL) return fail(env, "root: contains NUL");
  /* Rows, and where each one's stats start: its directory, then its files. */
  napi_value index_buffer;
  void *index_data;
  if (napi_create_arraybuffer(env, sizeof(int32_t) * (rows > 0 ? rows : 1), &index_data, &index_buffer) != napi_ok) return NULL;
  int32_t *dir_index = (int32_t *)index_data;
  size_t total;
  snapshot_row *parsed = parse_spec(env, (const char *)data, length, rows, dir_index, &total);
  if (parsed == NULL) return NULL;
  napi_value stats_buffer;
  void *out;
  if (napi_create_arraybuffer(env, sizeof(double) * STAT_FIELDS * (total > 0 ? total : 1), &out, &stats_buffer) != napi_ok) {
    free(parsed);
    return NULL;
  }
  snapshot_job template = {(const char *)root, root_length, NULL, NULL, 0, 0, (double *)out, NULL, 0, 0, -1};
  snapshot_job jobs[MAX_THREADS];
  run_rows(&template, parsed, dir_index, rows, total, jobs);
  free(parsed);

  napi_value stats, index, result;
  if (napi_create_typedarray(env, napi_float64_array, STAT_FIELDS * total, stats_buffer, 0, &stats) != napi_ok) return NULL;
  if (napi_create_typedarray(env, napi_int32_array, rows, index_buffer, 0, &index) != napi_ok) return NULL;
  if (napi_create_array_with_length(env, 2, &result) != napi_ok) return NULL;
  if (napi_set_element(env, result, 0, stats) != napi_ok || napi_set_element(env, result, 1, index) != napi_ok) return NULL;
  return result;
}

/* -1: valid; else the first bad node (0 also for a root whose subtree does not end at n). */
static int64_t validate_columns(const uint32_t *pos, const uint32_t *end, const uint32_t *subtree_end, uint32_t n, uint32_t text_length, uint32_t *stack) {
  if (subtree_end[0] != n) return 0;
  uint32_t top = 0;
  stack[0] = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t p = pos[i], e = end[i], s = subtree_end[i];
    if (p > e || e > text_length || s <= i || s > n) return i;
    if (i == 0) continue;
    while (subtree_end[stack[top]] <= i) top--; /* the root's subtree ends at n > i: never pops it */
    if (s > subtree_end[stack[top]]) return i;
    stack[++top] = i;
  }
  return -1;
}

static napi_value validate_ast_columns(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6) return fail(env, "validateAstColumns(bytes, nodeCount, textLength, posOffset, endOffset, subtreeEndOffset)");
  size_t length;
  void *data;
  if (!typed_arg(env, argv[0], napi_uint8_array, &data, &length)) return fail(env, "bytes: a Uint8Array");
  uint32_t values[5];
  for (int k = 0; k < 5; k++) {
    if (napi_get_value_uint32(env, argv[k + 1], &values[k]) != napi_ok) return fail(env, "nodeCount, textLength and the offsets: uint32s");
  }
  uint32_t n = values[0], text_length = values[1];
  const uint32_t offsets[3] = {values[2], values[3], values[4]};
  if (n == 0) return fail(env, "nodeCount: at least 1");
  if (((uintptr_t)data) % 4 != 0) return fail(env, "bytes: not 4-aligned");
  for (int k = 0; k < 3; k++) {
    if (offsets[k] % 4 != 0 || (uint64_t)offsets[k] + (uint64_t)n * 4 > length) return fail(env, "a column lies outside the bytes");
  }
  const uint8_t *base = (const uint8_t *)data;
  uint32_t *stack = malloc(sizeof(uint32_t) * n);
  if (stack == NULL) return fail(env, "out of memory");
  int64_t bad = validate_columns((const uint32_t *)(base + offsets[0]), (const uint32_t *)(base + offsets[1]), (const uint32_t *)(base + offsets[2]), n, text_length, stack);
  free(stack);
  napi_value result;
  if (napi_create_int64(env, bad, &result) != napi_ok) return NULL;
  return result;
}


static int near(double a, double b, double tolerance) { return a - b < tolerance && b - a < tolerance; }

/* The receipt's rule for one path (native-bindings/stat-compare.ts holds it in JS, and the tests compare the two). */
static int as_expected(const double *o, const double *e, int is_directory, double max_file_size, double tolerance) {
  if (o[F_ERRNO] != 0) return 0;
  uint32_t kind = (uint32_t)(int64_t)o[F_MODE] & S_IFMT;
  int same = is_directory ? kind == S_IFDIR && o[F_MTIME_MS] == e[E_MTIME_MS] && o[F_CTIME_MS] == e[E_CTIME_MS]
                          : kind == S_IFREG && o[F_NLINK] == 1 && o[F_SIZE] <= max_file_size && o[F_SIZE] == e[E_SIZE] && near(o[F_MTIME_MS], e[E_MTIME_MS], tolerance) && near(o[F_CTIME_MS], e[E_CTIME_MS], tolerance);
  return same && o[F_INO] == e[E_INO] && o[F_DEV] == e[E_DEV];
}

static napi_value first_stat_difference(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5) return fail(env, "firstStatDifference(stats, dirIndex, expected, maxFileSize, tolerance)");
  size_t stats_length, rows, expected_length;
  void *stats_data, *index_data, *expected_data;
  double max_file_size, tolerance;
  if (!typed_arg(env, argv[0], napi_float64_array, &stats_data, &stats_length)) return fail(env, "stats: a Float64Array");
  if (!typed_arg(env, argv[1], napi_int32_array, &index_data, &rows)) return fail(env, "dirIndex: an Int32Array");
  if (!typed_arg(env, argv[2], napi_float64_array, &expected_data, &expected_length)) return fail(env, "expected: a Float64Array");
  if (napi_get_value_double(env, argv[3], &max_file_size) != napi_ok || napi_get_value_double(env, argv[4], &tolerance) != napi_ok) return fail(env, "maxFileSize, tolerance: numbers");
  size_t paths = expected_length / EXPECTED_FIELDS;
  if (expected_length % EXPECTED_FIELDS != 0 || stats_length != paths * STAT_FIELDS) return fail(env, "stats and expected: not of the same paths");
  const double *stats = (const double *)stats_data;
  const double *expected = (const double *)expected_data;
  const int32_t *dir_index = (const int32_t *)index_data;
  int64_t first = -1;
  size_t next_row = 0;
  for (size_t i = 0; i < paths && first < 0; i++) {
    int is_directory = next_row < rows && dir_index[next_row] >= 0 && (size_t)dir_index[next_row] == i;
    if (is_directory) next_row++;
    if (!as_expected(stats + i * STAT_FIELDS, expected + i * EXPECTED_FIELDS, is_directory, max_file_size, tolerance)) first = (int64_t)i;
  }
  if (first < 0 && next_row != rows) first = (int64_t)paths;
  napi_value result;
  if (napi_create_int64(env, first, &result) != napi_ok) return NULL;
  return result;
}

/* lstatSnapshot and firstStatDifference in one pass, each thread stopping at its first difference: no stats array at all. */
static napi_value check_snapshot(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6) return fail(env, "checkSnapshot(root, spec, rows, expected, maxFileSize, tolerance)");
  size_t root_length, length, expected_length;
  void *root, *data, *expected;
  uint32_t rows;
  double max_file_size, tolerance;
  if (!typed_arg(env, argv[0], napi_uint8_array, &root, &root_length)) return fail(env, "root: a Uint8Array");
  if (!typed_arg(env, argv[1], napi_uint8_array, &data, &length)) return fail(env, "spec: a Uint8Array");
  if (napi_get_value_uint32(env, argv[2], &rows) != napi_ok) return fail(env, "rows: a uint32");
  if (!typed_arg(env, argv[3], napi_float64_array, &expected, &expected_length)) return fail(env, "expected: a Float64Array");
  if (napi_get_value_double(env, argv[4], &max_file_size) != napi_ok || napi_get_value_double(env, argv[5], &tolerance) != napi_ok) return fail(env, "maxFileSize, tolerance: numbers");
  if (memchr(root, '\0', root_length) != NULL) return fail(env, "root: contains NUL");
  int32_t *dir_index = malloc(sizeof(int32_t) * (rows > 0 ? rows : 1));
  if (dir_index == NULL) return fail(env, "out of memory");
  size_t total;
  snapshot_row *parsed = parse_spec(env, (const char *)data, length, rows, dir_index, &total);
  if (parsed == NULL) {
    free(dir_index);
    return NULL;
  }
  if (expected_length != total * EXPECTED_FIELDS) {
    free(parsed);
    free(dir_index);
    return fail(env, "expected: not EXPECTED_FIELDS numbers per path of the spec");
  }
  snapshot_job template = {(const char *)root, root_length, NULL, NULL, 0, 0, NULL, (const double *)expected, max_file_size, tolerance, -1};
  snapshot_job jobs[MAX_THREADS];
  run_rows(&template, parsed, dir_index, rows, total, jobs);
  uint32_t threads = threads_for((uint32_t)total);
  int64_t first = -1;
  for (uint32_t t = 0; t < threads && first < 0; t++) first = jobs[t].first; /* ranges in order: the first thread with one has the first */
  free(parsed);
  free(dir_index);
  napi_value result;
  if (napi_create_int64(env, first, &result) != napi_ok) return NULL;
  return result;
}

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static uint64_t read64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; } /* little-endian hosts (x64, arm64) */
static uint32_t read32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t xxh_round(uint64_t acc, uint64_t input) { return rotl64(acc + input * P2, 31) * P1; }
static uint64_t xxh_merge(uint64_t acc, uint64_t value) { return (acc ^ xxh_round(0, value)) * P1 + P4; }

/* XXH64 with seed 0, as the xxHash specification defines it: four lanes over 32-byte stripes, then the tail. */
typedef struct {
  uint64_t v1, v2, v3, v4;
} xxh_lanes;

static xxh_lanes xxh_start(void) { return (xxh_lanes){P1 + P2, P2, 0, (uint64_t)0 - P1}; }

static void xxh_stripes(xxh_lanes *lanes, const uint8_t *p, size_t length) {
  for (size_t at = 0; at + 32 <= length; at += 32) {
    lanes->v1 = xxh_round(lanes->v1, read64(p + at));
    lanes->v2 = xxh_round(lanes->v2, read64(p + at + 8));
    lanes->v3 = xxh_round(lanes->v3, read64(p + at + 16));
    lanes->v4 = xxh_round(lanes->v4, read64(p + at + 24));
  }
}

/* The hash of `total` bytes whose stripes went through `lanes`, and whose last `tail_length` (< 32) are at `tail`. */
static uint64_t xxh_finish(const xxh_lanes *lanes, uint64_t total, const uint8_t *tail, size_t tail_length) {
  uint64_t h;
  if (total >= 32) {
    h = rotl64(lanes->v1, 1) + rotl64(lanes->v2, 7) + rotl64(lanes->v3, 12) + rotl64(lanes->v4, 18);
    h = xxh_merge(h, lanes->v1);
    h = xxh_merge(h, lanes->v2);
    h = xxh_merge(h, lanes->v3);
    h = xxh_merge(h, lanes->v4);
  } else {
    h = P5;
  }
  h += total;
  const uint8_t *p = tail, *end = tail + tail_length;
  for (; p + 8 <= end; p += 8) h = rotl64(h ^ xxh_round(0, read64(p)), 27) * P1 + P4;
  if (p + 4 <= end) {
    h = rotl64(h ^ ((uint64_t)read32(p) * P1), 23) * P2 + P3;
    p += 4;
  }
  for (; p < end; p++) h = rotl64(h ^ ((uint64_t)*p * P5), 11) * P1;
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

static uint64_t xxh64_of(const uint8_t *p, size_t length) {
  xxh_lanes lanes = xxh_start();
  size_t stripes = length / 32 * 32;
  xxh_stripes(&lanes, p, stripes);
  return xxh_finish(&lanes, length, p + stripes, length - stripes);
}

/* XXH64 with seed 0 of a file's bytes from `from` to its end, read through one reused buffer (no
   buffer the size of the file to fault in: on a VM each first touch of a page costs microseconds).
   -1 in *length when the file cannot be read. */
#define FILE_CHUNK (64 * 1024) /* a multiple of the 32-byte stripe */
static uint64_t xxh64_file(const char *file, uint64_t from, int64_t *length) {
  *length = -1;
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  uint8_t *chunk = malloc(FILE_CHUNK);
  if (chunk == NULL) {
    close(fd);
    return 0;
  }
  xxh_lanes lanes = xxh_start();
  uint64_t total = 0;
  size_t held = 0; /* bytes at the start of chunk not hashed yet (fewer than a stripe between reads) */
  int failed = 0;
  for (;;) {
    ssize_t got = pread(fd, chunk + held, FILE_CHUNK - held, (off_t)(from + total));
    if (got < 0) {
      if (errno == EINTR) continue;
      failed = 1;
      break;
    }
    if (got == 0) break;
    total += (uint64_t)got;
    held += (size_t)got;
    size_t stripes = held / 32 * 32;
    xxh_stripes(&lanes, chunk, stripes);
    memmove(chunk, chunk + stripes, held - stripes);
    held -= stripes;
  }
  close(fd);
  uint64_t h = failed ? 0 : xxh_finish(&lanes, total, chunk, held);
  free(chunk);
  if (!failed) *length = (int64_t)total;
  return h;
}

static napi_value xxh64_file_call(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return fail(env, "xxh64File(path, from)");
  size_t length;
  void *data;
  int64_t from;
  if (!typed_arg(env, argv[0], napi_uint8_array, &data, &length) || length == 0 || ((const char *)data)[length - 1] != '\0' || memchr(data, '\0', length - 1) != NULL) return fail(env, "path: a NUL-terminated Uint8Array");
  if (napi_get_value_int64(env, argv[1], &from) != napi_ok || from < 0) return fail(env, "from: an offset");
  int64_t read;
  uint64_t hash = xxh64_file((const char *)data, (uint64_t)from, &read);
  napi_value result;
  if (read < 0) {
    if (napi_get_null(env, &result) != napi_ok) return NULL;
  } else if (napi_create_bigint_uint64(env, hash, &result) != napi_ok) {
    return NULL;
  }
  return result;
}

static napi_value xxh64(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return fail(env, "xxh64(bytes)");
  size_t length;
  void *data;
  if (!typed_arg(env, argv[0], napi_uint8_array, &data, &length)) return fail(env, "bytes: a Uint8Array");
  napi_value result;
  if (napi_create_bigint_uint64(env, xxh64_of((const uint8_t *)data, length), &result) != napi_ok) return NULL;
  return result;
}

/* ---- lz4UnpackAst ---- */

enum { UNPACK_BAD_LZ4 = 1, UNPACK_BAD_PACKING = 2, UNPACK_BAD_COLUMNS = 3 };
/* shared/ast-format.ts: a 24-byte header of u32 words, then the five columns. */
enum { AST_HEADER_BYTES = 24, AST_WORD_NODE_COUNT = 2, AST_WORD_TEXT_LENGTH = 3 };
/* shared/packed-ast.ts: the header, 8 bytes of column widths, the columns each padded to 4 bytes. */
enum { PACKED_HEADER_BYTES = AST_HEADER_BYTES + 8, PACKED_COLUMNS = 5 };
/* native-bindings/lz4.ts: no valid block expands more than 255-fold; entries stay below 256 MiB. */
#define LZ4_MAX_EXPANSION 255u
#define LZ4_MAX_OUTPUT (256u * 1024u * 1024u)

static size_t align4(size_t n) { return (n + 3) & ~(size_t)3; }

/* One safe LZ4 block decode into exactly dst_len bytes: 0 on success. Every length and offset is
   checked against both buffers. Where both have room, copies run in fixed 8- and 16-byte steps
   that may write past the sequence (later sequences overwrite it): the packed columns decode to
   ~3 million sequences of ~1 literal and a ~15-byte match, so the per-sequence cost is the speed
   (18 ms for 51.6 MB of real ASTs, against 16 ms for liblz4's LZ4_decompress_safe and 27 ms for
   exact-length copies). */
static int lz4_block_decode(const uint8_t *ip, size_t src_len, uint8_t *dst, size_t dst_len) {
  const uint8_t *const iend = ip + src_len;
  uint8_t *op = dst;
  uint8_t *const oend = dst + dst_len;
  while (ip < iend) {
    unsigned token = *ip++;
    size_t literals = token >> 4;
    if (literals != 15 && (size_t)(iend - ip) >= 16 + 2 && (size_t)(oend - op) >= 16) {
      /* At most 14 literals, and the match offset after them is in the input. */
      memcpy(op, ip, 16);
      op += literals;
      ip += literals;
    } else {
      if (literals == 15) {
        unsigned byte;
        do {
          if (ip >= iend) return -1;
          byte = *ip++;
          literals += byte;
        } while (byte == 255);
      }
      if (literals > (size_t)(iend - ip) || literals > (size_t)(oend - op)) return -1;
      memcpy(op, ip, literals);
      op += literals;
      ip += literals;
      if (ip == iend) break; /* the last sequence holds literals only */
      if (iend - ip < 2) return -1;
    }
    size_t offset = (size_t)ip[0] | ((size_t)ip[1] << 8);
    ip += 2;
    if (offset == 0 || offset > (size_t)(op - dst)) return -1;
    size_t length = token & 15;
    if (length == 15) {
      unsigned byte;
      do {
        if (ip >= iend) return -1;
        byte = *ip++;
        length += byte;
      } while (byte == 255);
    }
    length += 4;
    size_t room = (size_t)(oend - op);
    if (length > room) return -1;
    const uint8_t *match = op - offset;
    /* Each step reads only bytes at least its own width behind what it writes: already final. */
    if (length <= 18 && offset >= 8 && room >= 18) {
      memcpy(op, match, 8);
      memcpy(op + 8, match + 8, 8);
      memcpy(op + 16, match + 16, 2);
    } else if (offset >= 16 && room >= length + 16) {
      for (size_t k = 0; k < length; k += 16) memcpy(op + k, match + k, 16);
    } else if (offset >= 8 && room >= length + 8) {
      for (size_t k = 0; k < length; k += 8) memcpy(op + k, match + k, 8);
    } else if (offset < 8 && room >= length + 16) {
      /* A short repeating pattern: lay out `step` bytes (a multiple of offset, 8 to 14), then copy
         8 bytes at a time from `step` back, where the pattern repeats. */
      size_t step = offset * ((8 + offset - 1) / offset);
      for (size_t k = 0; k < step; k++) op[k] = match[k];
      for (size_t k = step; k < length; k += 8) memcpy(op + k, op + k - step, 8);
    } else {
      for (size_t k = 0; k < length; k++) op[k] = match[k];
    }
    op += length;
  }
  return op == oend ? 0 : -1;
}

/* One packed column widened into 32-bit values (the loops vectorise; a width test per value does not). */
static void widen32(uint32_t *to, const uint8_t *from, unsigned width, uint32_t n) {
  if (width == 4) {
    memcpy(to, from, (size_t)n * 4);
  } else if (width == 2) {
    for (uint32_t i = 0; i < n; i++) {
      uint16_t v;
      memcpy(&v, from + 2 * (size_t)i, 2);
      to[i] = v;
    }
  } else {
    for (uint32_t i = 0; i < n; i++) to[i] = from[i];
  }
}

/* Widens the packed columns of `packed` into `ast` (the layout for n nodes), then checks them as
   validate_columns does: 0, or UNPACK_BAD_COLUMNS. `scratch` holds 2n + 1 values. */
static int widen_and_check(const uint8_t *packed, const unsigned *widths, uint32_t n, uint8_t *ast, uint32_t *scratch) {
  const uint8_t *columns[PACKED_COLUMNS];
  size_t at = PACKED_HEADER_BYTES;
  for (int c = 0; c < PACKED_COLUMNS; c++) {
    columns[c] = packed + at;
    at += align4((size_t)n * widths[c]);
  }
  uint32_t text_length;
  memcpy(&text_length, packed + 4 * AST_WORD_TEXT_LENGTH, 4);
  memcpy(ast, packed, AST_HEADER_BYTES);
  size_t flags_at = AST_HEADER_BYTES + align4((size_t)n * 2);
  uint16_t *kind = (uint16_t *)(ast + AST_HEADER_BYTES);
  uint32_t *flags = (uint32_t *)(ast + flags_at);
  uint32_t *pos = flags + n, *end = pos + n, *subtree_end = end + n;
  memset(ast + AST_HEADER_BYTES + (size_t)n * 2, 0, flags_at - AST_HEADER_BYTES - (size_t)n * 2); /* the kind column's padding */
  if (widths[0] == 2) {
    memcpy(kind, columns[0], (size_t)n * 2);
  } else {
    for (uint32_t i = 0; i < n; i++) kind[i] = columns[0][i];
  }
  widen32(flags, columns[1], widths[1], n);
  widen32(pos, columns[2], widths[2], n);
  widen32(end, columns[3], widths[3], n);
  widen32(subtree_end, columns[4], widths[4], n);
  /* Spans and subtree bounds, without a branch per node: the coded columns decode as a prefix sum. */
  uint32_t previous = 0;
  uint32_t bad = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t p = previous + pos[i];
    uint32_t e = p + end[i];
    uint32_t s = i + subtree_end[i];
    previous = p;
    pos[i] = p;
    end[i] = e;
    subtree_end[i] = s;
    bad |= (uint32_t)(p > e) | (uint32_t)(e > text_length) | (uint32_t)(s <= i) | (uint32_t)(s > n);
  }
  if (bad || subtree_end[0] != n) return UNPACK_BAD_COLUMNS;
  /* Nesting. ending[k] subtrees end at k, all of them opened before k. While every earlier subtree
     lies inside its parent's, the open ones sit on the stack sorted by their ends, so those ending
     at i are exactly its top ending[i]: they pop without a comparison (validate_columns's loop
     mispredicted about once a node: 3x slower). The root's end, n, never pops. */
  uint32_t *stack = scratch, *ending = scratch + n;
  memset(ending, 0, sizeof(uint32_t) * ((size_t)n + 1));
  for (uint32_t i = 0; i < n; i++) ending[subtree_end[i]]++;
  uint32_t top = 0;
  stack[0] = n;
  for (uint32_t i = 1; i < n; i++) {
    top -= ending[i];
    uint32_t s = subtree_end[i];
    if (s > stack[top]) return UNPACK_BAD_COLUMNS; /* at once: the stack's order is what bounds top */
    stack[++top] = s;
  }
  return 0;
}

static napi_value unpack_failure(napi_env env, int code) {
  napi_value result;
  if (napi_create_int32(env, code, &result) != napi_ok) return NULL;
  return result;
}

static napi_value lz4_unpack_ast(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return fail(env, "lz4UnpackAst(payload, packedLength)");
  size_t length;
  void *data;
  if (!typed_arg(env, argv[0], napi_uint8_array, &data, &length)) return fail(env, "payload: a Uint8Array");
  uint32_t packed_length;
  if (napi_get_value_uint32(env, argv[1], &packed_length) != napi_ok) return fail(env, "packedLength: a uint32");
  const uint8_t *payload = (const uint8_t *)data;
  /* The size prefix must say what the entry says, and no more than the block can hold. */
  if (length < 4 || read32(payload) != packed_length || packed_length < PACKED_HEADER_BYTES) return unpack_failure(env, UNPACK_BAD_LZ4);
  if (packed_length > LZ4_MAX_OUTPUT || (uint64_t)packed_length > (uint64_t)(length - 4) * LZ4_MAX_EXPANSION) return unpack_failure(env, UNPACK_BAD_LZ4);
  uint8_t *packed = malloc(packed_length);
  if (packed == NULL) return fail(env, "out of memory");
  if (lz4_block_decode(payload + 4, length - 4, packed, packed_length) != 0) {
    free(packed);
    return unpack_failure(env, UNPACK_BAD_LZ4);
  }
  /* shared/packed-ast.ts's checks: widths, kinds no wider than 16 bits, the exact length. */
  uint32_t n = read32(packed + 4 * AST_WORD_NODE_COUNT);
  unsigned widths[PACKED_COLUMNS];
  uint64_t expected = PACKED_HEADER_BYTES;
  int well_formed = n != 0;
  for (int c = 0; c < PACKED_COLUMNS; c++) {
    widths[c] = packed[AST_HEADER_BYTES + c];
    if (widths[c] != 1 && widths[c] != 2 && widths[c] != 4) well_formed = 0;
    expected += align4((uint64_t)n * widths[c]);
  }
  if (widths[0] == 4 || expected != packed_length) well_formed = 0;
  if (!well_formed) {
    free(packed);
    return unpack_failure(env, UNPACK_BAD_PACKING);
  }
  size_t byte_length = AST_HEADER_BYTES + align4((size_t)n * 2) + (size_t)n * 16;
  void *ast_data;
  napi_value buffer, ast;
  uint32_t *scratch = malloc(sizeof(uint32_t) * (2 * (size_t)n + 1));
  if (scratch == NULL || napi_create_arraybuffer(env, byte_length, &ast_data, &buffer) != napi_ok) {
    free(packed);
    free(scratch);
    return scratch == NULL ? fail(env, "out of memory") : NULL;
  }
  int bad = widen_and_check(packed, widths, n, (uint8_t *)ast_data, scratch);
  free(packed);
  free(scratch);
  if (bad) return unpack_failure(env, bad);
  if (napi_create_typedarray(env, napi_uint8_array, byte_length, buffer, 0, &ast) != napi_ok) return NULL;
  return ast;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_value fields;
  if (napi_create_function(env, "lstatMany", NAPI_AUTO_LENGTH, lstat_many, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "lstatMany", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "lstatSnapshot", NAPI_AUTO_LENGTH, lstat_snapshot, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "lstatSnapshot", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "validateAstColumns", NAPI_AUTO_LENGTH, validate_ast_columns, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "validateAstColumns", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "firstStatDifference", NAPI_AUTO_LENGTH, first_stat_difference, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "firstStatDifference", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "checkSnapshot", NAPI_AUTO_LENGTH, check_snapshot, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "checkSnapshot", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "xxh64File", NAPI_AUTO_LENGTH, xxh64_file_call, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "xxh64File", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "xxh64", NAPI_AUTO_LENGTH, xxh64, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "xxh64", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "lz4UnpackAst", NAPI_AUTO_LENGTH, lz4_unpack_ast, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "lz4UnpackAst", fn) != napi_ok) return NULL;
  if (napi_create_uint32(env, STAT_FIELDS, &fields) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "statFields", fields) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
