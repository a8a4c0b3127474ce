/* test.h — a tiny test harness: one binary per test file.
 *
 *     #include "test.h"
 *     TEST(adds_numbers) { CHECK(1 + 1 == 2); CHECK_NEAR(0.1f, 0.1, 1e-6); }
 *
 * Each test runs in order; a failed CHECK reports file:line and stops that
 * test. SKIP("why") ends a test as skipped (e.g. data not present). The
 * binary prints one line per test and "N passed, N failed, N skipped";
 * tests/run.sh adds them up. `binary NAME` runs only the tests whose name
 * contains NAME.
 */
#ifndef PL_TEST_H
#define PL_TEST_H

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*test_fn)(void);
static struct { const char *name; test_fn fn; } test_list_[512];
static int test_count_;
static jmp_buf test_jmp_;
static int test_skipped_;

#define TEST(tname)                                                            \
    static void test_##tname(void);                                            \
    __attribute__((constructor)) static void test_register_##tname(void)       \
    {                                                                         \
        if (test_count_ < 512) {                                              \
            test_list_[test_count_].name = #tname;                             \
            test_list_[test_count_++].fn = test_##tname;                       \
        }                                                                     \
    }                                                                         \
    static void test_##tname(void)

#define TEST_FAIL_(...)                                                       \
    do {                                                                      \
        fprintf(stderr, "    %s:%d: ", __FILE__, __LINE__);                   \
        fprintf(stderr, __VA_ARGS__);                                         \
        fprintf(stderr, "\n");                                                \
        longjmp(test_jmp_, 1);                                                \
    } while (0)

#define CHECK(cond)                                                           \
    do { if (!(cond)) TEST_FAIL_("CHECK(%s) failed", #cond); } while (0)
#define CHECK_MSG(cond, ...)                                                  \
    do { if (!(cond)) TEST_FAIL_(__VA_ARGS__); } while (0)
#define CHECK_EQ_INT(a, b)                                                    \
    do {                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                   \
        if (a_ != b_) TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);  \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                 \
    do {                                                                      \
        double a_ = (double)(a), b_ = (double)(b);                            \
        if (!(fabs(a_ - b_) <= (tol)))                                        \
            TEST_FAIL_("%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, a_, b_,      \
                       (double)(tol));                                        \
    } while (0)
#define CHECK_STR(a, b)                                                       \
    do {                                                                      \
        const char *a_ = (a), *b_ = (b);                                      \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                \
            TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", \
                       b_ ? b_ : "(null)");                                   \
    } while (0)
#define CHECK_CONTAINS(hay, needle)                                           \
    do {                                                                      \
        const char *h_ = (hay), *n_ = (needle);                               \
        if (!h_ || !strstr(h_, n_))                                           \
            TEST_FAIL_("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_); \
    } while (0)
#define SKIP(...)                                                             \
    do {                                                                      \
        fprintf(stderr, "    skipped: ");                                     \
        fprintf(stderr, __VA_ARGS__);                                         \
        fprintf(stderr, "\n");                                                \
        test_skipped_ = 1;                                                    \
        longjmp(test_jmp_, 1);                                                \
    } while (0)

/* Paths the tests read at run time. */
static inline const char *test_shared_dir(void)
{
    const char *s = getenv("PASALISTA_SHARED");
    return s ? s : "../shared";
}
static inline const char *test_models_dir(void)
{
    const char *s = getenv("PASALISTA_MODELS");
    return s ? s : "models";
}

/* Runs one test; 1 = passed, 0 = failed or skipped. Kept apart from main
 * so that longjmp clobbers nothing main keeps in registers. */
static int test_run_one_(test_fn fn)
{
    test_skipped_ = 0;
    if (setjmp(test_jmp_) == 0) {
        fn();
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < test_count_; i++) {
        if (argc > 1 && !strstr(test_list_[i].name, argv[1])) continue;
        int ok = test_run_one_(test_list_[i].fn);
        if (test_skipped_) {
            skipped++;
            printf("skip %s\n", test_list_[i].name);
        } else if (ok) {
            passed++;
            printf("ok   %s\n", test_list_[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", test_list_[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}

#endif
