/* bench_gender.c — how long the small CNN takes to train: forward,
 * backward and an Adam step on batches of 48×48 inputs, timed per epoch of
 * 279 samples (the size of ../shared/faces/gender.csv), single-threaded as
 * training is. Synthetic inputs: the speed does not depend on the pixels.
 *
 *     build/bench/bench_gender [epochs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "face/gender.h"
#include "train/model_file.h"
#include "train/optim.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void) { return (double)clock() / CLOCKS_PER_SEC; }

int main(int argc, char **argv)
{
    int epochs = argc > 1 ? atoi(argv[1]) : 3, batch = 32, samples = 279;
    int side = PL_GENDER_INPUT, per = 3 * side * side;
    tr_model m;
    pl_error err = {0};
    if (tr_model_build(&m, "small-cnn", 3, side, side, batch, &err) != PL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    tr_rng rng;
    tr_rng_seed(&rng, 1);
    tr_net_init_weights(&m.net, &rng);
    tr_optim o;
    tr_optim_init(&o, TR_ADAM, 2e-3f, 5e-4f);
    float *x = malloc((size_t)batch * per * sizeof *x), dz[64];
    int labels[32];
    for (int i = 0; i < batch * per; i++) x[i] = tr_rng_normal(&rng);
    for (int i = 0; i < batch; i++) labels[i] = i & 1;
    int batches = (samples + batch - 1) / batch;
    double best_wall = 1e9, best_cpu = 1e9;
    for (int e = 0; e < epochs; e++) {
        double t0 = now_s(), c0 = cpu_s();
        for (int b = 0; b < batches; b++) {
            tr_zero_grad(&m.net);
            const float *z = tr_forward(&m.net, x, batch, 1, &rng);
            tr_softmax_ce(z, labels, batch, 2, dz, NULL);
            tr_backward(&m.net, x, dz, batch);
            tr_optim_step(&o, &m.net, 1e-3f);
        }
        double w = now_s() - t0, c = cpu_s() - c0;
        if (w < best_wall) best_wall = w;
        if (c < best_cpu) best_cpu = c;
        printf("epoch %d: %.2f s wall, %.2f s cpu (%d batches of %d, 48x48)\n", e + 1, w, c,
               batches, batch);
    }
    printf("small-cnn: best epoch %.2f s wall / %.2f s cpu -> 20 epochs ~ %.0f s cpu "
           "(+ validation passes)\n", best_wall, best_cpu, 20 * best_cpu);
    free(x);
    tr_model_free(&m);
    return 0;
}
