/* cpu.c — which SIMD instruction sets this CPU and OS let us use.
 *
 * A feature counts only when the CPU has it (cpuid) AND the OS saves its
 * registers on a context switch (xgetbv: XMM/YMM state for AVX, plus
 * opmask/ZMM state for AVX-512). PL_CPU=generic|avx2|avx512 caps the
 * result so tests and benchmarks can exercise each path on one machine. */
#include "engine/kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void)
{
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect(pl_cpu *c)
{
    unsigned int a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return;
    int fma = (cx >> 12) & 1, osxsave = (cx >> 27) & 1, avx = (cx >> 28) & 1;
    if (!osxsave || !avx) return;
    unsigned long long xcr0 = read_xcr0();
    int os_ymm = (xcr0 & 0x6) == 0x6;     /* XMM + YMM state            */
    int os_zmm = (xcr0 & 0xe6) == 0xe6;   /* + opmask, ZMM_Hi256, Hi16  */
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, cx, d);
    int avx2 = (b >> 5) & 1;
    int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1;
    int avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    c->avx2_fma = avx2 && fma && os_ymm;
    /* Our AVX-512 files are compiled with F/BW/VL/DQ: require all four. */
    c->avx512f = c->avx2_fma && os_zmm && avx512f && avx512dq && avx512bw && avx512vl;
}
#else
static void detect(pl_cpu *c) { (void)c; }
#endif

static pl_cpu cpu_features;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void cpu_init(void)
{
    pl_cpu c = {0, 0};
    detect(&c);
    const char *cap = getenv("PL_CPU");
    if (cap && strcmp(cap, "generic") == 0) c.avx2_fma = c.avx512f = 0;
    else if (cap && strcmp(cap, "avx2") == 0) c.avx512f = 0;
    cpu_features = c;
}

const pl_cpu *pl_cpu_features(void)
{
    pthread_once(&cpu_once, cpu_init);
    return &cpu_features;
}

const pl_cpu *pl_cpu_reload(void)
{
    pthread_once(&cpu_once, cpu_init);
    cpu_init();
    return &cpu_features;
}

void pl_cpu_set_ftz(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned int csr;
    __asm__ volatile("stmxcsr %0" : "=m"(csr));
    csr |= 0x8040; /* FTZ (bit 15) | DAZ (bit 6) */
    __asm__ volatile("ldmxcsr %0" : : "m"(csr));
#endif
}
