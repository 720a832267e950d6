/* harness.h: the one unit-test harness: named cases, assertions that print both values. */
#ifndef VOLLEY_TEST_HARNESS_H
#define VOLLEY_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int harness_failed_checks;
static int harness_passed;
static int harness_failed;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: expected %s\n", __FILE__, __LINE__, #cond);                  \
            harness_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

#define EXPECT_INT(a, b)                                                                           \
    do {                                                                                           \
        long long ha_ = (long long)(a), hb_ = (long long)(b);                                      \
        if (ha_ != hb_) {                                                                          \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a,  \
                    ha_, #b, hb_);                                                                 \
            harness_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

#define EXPECT_STR(a, b)                                                                           \
    do {                                                                                           \
        const char *ha_ = (a), *hb_ = (b);                                                         \
        if (!ha_ || !hb_ || strcmp(ha_, hb_) != 0) {                                               \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,    \
                    ha_ ? ha_ : "(null)", hb_ ? hb_ : "(null)");                                   \
            harness_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

/* Runs one named case and prints "ok NAME" or "FAIL NAME". */
#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int before_ = harness_failed_checks;                                                       \
        fn();                                                                                      \
        if (harness_failed_checks == before_) {                                                    \
            printf("ok   %s\n", #fn);                                                              \
            harness_passed++;                                                                      \
        } else {                                                                                   \
            printf("FAIL %s\n", #fn);                                                              \
            harness_failed++;                                                                      \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

/* Last line of every unit binary; tests/run.sh adds these up. */
#define HARNESS_END()                                                                              \
    do {                                                                                           \
        printf("unit: %d passed, %d failed\n", harness_passed, harness_failed);                    \
        return harness_failed ? 1 : 0;                                                             \
    } while (0)

#endif
