// Counts the calls to malloc, calloc, realloc, posix_memalign and aligned_alloc of a process, for bench/allocations.
// Built and preloaded by that script: LD_PRELOAD=malloc_count.so MALLOC_COUNT_FILE=path program ...
// The count lives in an 8-byte file mapped into the process, so another process reads it while this one runs.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static _Atomic uint64_t fallback;
static _Atomic uint64_t *counter = &fallback;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);

// dlsym may allocate through calloc before real_calloc is known: serve those from a static arena.
static char arena[65536];
static size_t arena_used;

static void *arena_alloc(size_t size) {
    size = (size + 15) & ~(size_t)15;
    if (arena_used + size > sizeof(arena)) return NULL;
    void *p = arena + arena_used;
    arena_used += size;
    return p;
}

static int initializing;

static void resolve(void) {
    if (real_malloc || initializing) return;
    initializing = 1;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    initializing = 0;
}

static int in_arena(void *pointer) {
    return (char *)pointer >= arena && (char *)pointer < arena + sizeof(arena);
}

__attribute__((constructor)) static void setup(void) {
    resolve();
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (!path) return;
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0 || ftruncate(fd, 8) != 0) return;
    void *page = mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (page != MAP_FAILED) counter = page;
}

void *malloc(size_t size) {
    resolve();
    if (!real_malloc) return arena_alloc(size);
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
    return real_malloc(size);
}

void *calloc(size_t count, size_t size) {
    resolve();
    if (!real_calloc) return arena_alloc(count * size); // the arena is zeroed static memory
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
    return real_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    resolve();
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
    if (in_arena(pointer)) {
        void *moved = real_malloc(size);
        size_t available = (size_t)(arena + sizeof(arena) - (char *)pointer);
        memcpy(moved, pointer, size < available ? size : available);
        return moved;
    }
    return real_realloc(pointer, size);
}

int posix_memalign(void **pointer, size_t alignment, size_t size) {
    resolve();
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
    return real_memalign(pointer, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    resolve();
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
    return real_aligned_alloc(alignment, size);
}

void free(void *pointer) {
    static void (*real_free)(void *);
    if (in_arena(pointer)) return;
    if (!real_free) real_free = dlsym(RTLD_NEXT, "free");
    real_free(pointer);
}
