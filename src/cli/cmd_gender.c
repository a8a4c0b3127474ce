/* cmd_gender.c — `pasalista gender predict|train|eval`: an ESTIMATE of each
 * face's gender from a pretrained network or a model trained here. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista gender predict PHOTO|DIR [--model NAME|FILE] [--json]\n"
           "       pasalista gender train DATA --labels FILE.csv --out MODEL [options]\n"
           "       pasalista gender eval DATA --labels FILE.csv [--model NAME|FILE]\n"
           "\n"
           "Gender here is an ESTIMATE from the face (M or F, with P(male)); it is never\n"
           "used to decide attendance.\n"
           "\n"
           "predict   every face of each photo: box, estimated label, P(male), model.\n"
           "train     learn a model from labelled photos: LABELS is CSV 'path,gender'\n"
           "          (paths relative to DATA; M/F, male/female, hombre/mujer). A photo's\n"
           "          folder is its person: k-fold cross-validation never splits a person.\n"
           "          Prints one line per epoch, the cross-validated accuracy and F1 next to\n"
           "          the majority-class baseline, and writes MODEL (docs/TRAINING.md).\n"
           "eval      accuracy, precision, recall, F1 per class and the confusion matrix of\n"
           "          each --model (repeatable) and of every built-in model, side by side.\n"
           "\n"
           "  --model NAME|FILE   built-in network or a trained file (default %s)\n"
           "  --arch A            train: small-cnn (from scratch on 48x48 face crops) or\n"
           "                      head (on a frozen network's features)\n"
           "  --feature NAME      head: the frozen network (default faceres; or fr-feature, ...)\n"
           "  --optimizer O       adam (default) or sgd (momentum 0.9)\n"
           "  --epochs N          (20)   --batch N (32)   --lr X (adam 2e-3, sgd 0.05)\n"
           "  --weight-decay X    (5e-4)   --patience N: early stopping (5)\n"
           "  --cache FILE        head: keep the features in FILE and reuse them next time\n"
           "                      (a photo whose size or date changed is recomputed)\n"
           "  --folds K           k-fold by identity for the reported metrics (5; 0 = none)\n"
           "  --no-augment        small-cnn: no flip/crop/scale/rotation/light changes\n"
           "  --seed N            same seed, same model, bit for bit (1)\n"
           "  --threads N         threads for the pretrained networks (default 1)\n"
           "  --json              one JSON object on stdout\n"
           "\n"
           "Built-in models:\n",
           pl_gender_default_model());
    const char *summary;
    for (int i = 0; pl_gender_model_at(i, &summary); i++)
        printf("  %-10s %s\n", pl_gender_model_at(i, NULL), summary);
    printf("\nExit status: 0 done; 1 some photo failed; 2 bad command line; 3 nothing done.\n");
}

typedef struct gender_args {
    const char *models[16];
    int n_models;
    const char *labels, *out;
    int json;
    pl_gender_train_options train;
} gender_args;

static int parse(int argc, char **argv, gender_args *a)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},    {"labels", required_argument, 0, 'l'},
        {"out", required_argument, 0, 'o'},      {"arch", required_argument, 0, 'a'},
        {"feature", required_argument, 0, 'f'},  {"optimizer", required_argument, 0, 'O'},
        {"epochs", required_argument, 0, 'e'},   {"batch", required_argument, 0, 'b'},
        {"lr", required_argument, 0, 'r'},       {"weight-decay", required_argument, 0, 'w'},
        {"patience", required_argument, 0, 'p'}, {"folds", required_argument, 0, 'k'},
        {"no-augment", no_argument, 0, 'n'},     {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'},  {"json", no_argument, 0, 'j'},
        {"cache", required_argument, 0, 'C'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    pl_gender_train_options_default(&a->train);
    int c;
    optind = 2; /* argv[1] is the action */
    while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (a->n_models < 16) a->models[a->n_models++] = optarg;
            break;
        case 'l': a->labels = optarg; break;
        case 'o': a->out = optarg; break;
        case 'a': a->train.arch = optarg; break;
        case 'f': a->train.feature = optarg; break;
        case 'O': a->train.optimizer = optarg; break;
        case 'e': a->train.epochs = atoi(optarg); break;
        case 'b': a->train.batch = atoi(optarg); break;
        case 'r': a->train.lr = (float)atof(optarg); break;
        case 'w': a->train.weight_decay = (float)atof(optarg); break;
        case 'p': a->train.patience = atoi(optarg); break;
        case 'k': a->train.folds = atoi(optarg); break;
        case 'n': a->train.augment = 0; break;
        case 's': a->train.seed = strtoull(optarg, NULL, 10); break;
        case 't': a->train.threads = atoi(optarg); break;
        case 'C': a->train.cache = optarg; break;
        case 'j': a->json = 1; break;
        case 'h': help(); return -1;
        default: return cli_usage_error("gender", "unknown option");
        }
    }
    if (strcmp(a->train.arch, "small-cnn") && strcmp(a->train.arch, "head"))
        return cli_usage_error("gender", "--arch is small-cnn or head");
    if (strcmp(a->train.optimizer, "adam") && strcmp(a->train.optimizer, "sgd"))
        return cli_usage_error("gender", "--optimizer is adam or sgd");
    if (a->train.epochs < 1 || a->train.batch < 2)
        return cli_usage_error("gender", "--epochs must be >= 1 and --batch >= 2");
    return 0;
}

/* ---- predict -------------------------------------------------------------- */

static int is_photo_name(const char *n)
{
    const char *dot = strrchr(n, '.');
    static const char *ext[] = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"};
    for (size_t i = 0; dot && i < sizeof ext / sizeof ext[0]; i++)
        if (!strcasecmp(dot, ext[i])) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* PHOTO, or the photos of DIR (not recursive), sorted. */
static char **list_photos(const char *arg, int *n)
{
    struct stat st;
    *n = 0;
    char **v = NULL;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *d = opendir(arg);
        struct dirent *e;
        int cap = 0;
        while (d && (e = readdir(d))) {
            if (!is_photo_name(e->d_name)) continue;
            if (*n == cap) v = realloc(v, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *v);
            size_t len = strlen(arg) + strlen(e->d_name) + 2;
            v[*n] = malloc(len);
            snprintf(v[(*n)++], len, "%s/%s", arg, e->d_name);
        }
        if (d) closedir(d);
        if (*n) qsort(v, (size_t)*n, sizeof *v, cmp_str);
    } else {
        v = malloc(sizeof *v);
        v[0] = strdup(arg);
        *n = 1;
    }
    return v;
}

static int predict(int argc, char **argv, gender_args *a)
{
    if (optind != argc - 1) return cli_usage_error("gender", "predict: give one PHOTO or DIR");
    const char *model = a->n_models ? a->models[0] : pl_gender_default_model();
    pl_error err = {0};
    pl_gender *g = pl_gender_open(model, a->train.threads, &err);
    if (!g) return cli_fail(&err);
    int n = 0, failed = 0;
    char **photos = list_photos(argv[optind], &n);
    if (!n) cli_error("%s: no photos", argv[optind]);
    if (a->json) printf("{\"estimate\":true,\"model\":\"%s\",\"photos\":[", model);
    for (int i = 0; i < n; i++) {
        pl_gender_face *faces = NULL;
        int nf = 0;
        pl_status st = pl_gender_predict_photo(g, photos[i], &faces, &nf, &err);
        if (a->json) {
            printf("%s{\"path\":", i ? "," : "");
            cli_json_string(photos[i]);
            printf(",\"error\":");
            cli_json_string(st == PL_OK ? "" : err.msg);
            printf(",\"faces\":[");
        } else if (st != PL_OK) {
            cli_error("%s", err.msg);
        } else if (!nf) {
            printf("%s: no face\n", photos[i]);
        }
        failed += st != PL_OK;
        for (int k = 0; k < nf; k++) {
            const pl_gender_face *f = &faces[k];
            if (a->json)
                printf("%s{\"box\":[%.1f,%.1f,%.1f,%.1f],\"gender_estimate\":\"%s\",\"p_male\":%.4f}",
                       k ? "," : "", f->x1, f->y1, f->x2, f->y2, pl_gender_label(f->p_male),
                       f->p_male);
            else
                printf("%s face %d [%.0f,%.0f,%.0f,%.0f]: %s (estimate, P(male) %.3f, %s)\n",
                       photos[i], k + 1, f->x1, f->y1, f->x2, f->y2, pl_gender_label(f->p_male),
                       f->p_male, model);
        }
        if (a->json) printf("]}");
        free(faces);
        free(photos[i]);
    }
    if (a->json) printf("]}\n");
    free(photos);
    pl_gender_close(g);
    return !n ? EXIT_FAILED : failed ? EXIT_PARTIAL : EXIT_OK;
}

/* ---- train and eval ------------------------------------------------------ */

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

static void print_metrics(const char *name, const pl_gender_metrics *m, int json)
{
    if (json) {
        printf("{\"model\":");
        cli_json_string(name);
        printf(",\"n\":%d,\"accuracy\":%.4f,\"macro_f1\":%.4f,"
               "\"F\":{\"precision\":%.4f,\"recall\":%.4f,\"f1\":%.4f},"
               "\"M\":{\"precision\":%.4f,\"recall\":%.4f,\"f1\":%.4f},"
               "\"confusion\":{\"F\":{\"F\":%d,\"M\":%d},\"M\":{\"F\":%d,\"M\":%d}}}",
               m->n, m->accuracy, m->macro_f1, m->precision[0], m->recall[0], m->f1[0],
               m->precision[1], m->recall[1], m->f1[1], m->confusion[0][0], m->confusion[0][1],
               m->confusion[1][0], m->confusion[1][1]);
        return;
    }
    printf("%-28s %5d  %.4f  %.4f   %.3f %.3f %.3f   %.3f %.3f %.3f   F->F %3d F->M %3d M->F %3d "
           "M->M %3d\n",
           name, m->n, m->accuracy, m->macro_f1, m->precision[0], m->recall[0], m->f1[0],
           m->precision[1], m->recall[1], m->f1[1], m->confusion[0][0], m->confusion[0][1],
           m->confusion[1][0], m->confusion[1][1]);
}

static void print_header(void)
{
    printf("%-28s %5s  %-6s  %-6s   %-17s   %-17s   %s\n", "model (gender estimate)", "n",
           "acc", "macroF1", "F: prec rec f1", "M: prec rec f1", "confusion (true->predicted)");
}

static int train(int argc, char **argv, gender_args *a)
{
    if (optind != argc - 1) return cli_usage_error("gender", "train: give one DATA folder");
    if (!a->labels || !a->out) return cli_usage_error("gender", "train needs --labels and --out");
    a->train.log = log_line;
    pl_gender_train_report r;
    pl_error err = {0};
    if (pl_gender_train(argv[optind], a->labels, a->out, &a->train, &r, &err) != PL_OK)
        return cli_fail(&err);
    char name[64];
    snprintf(name, sizeof name, "%s (%d-fold by person)", a->train.arch, a->train.folds);
    if (a->json) {
        printf("{\"estimate\":true,\"arch\":\"%s\",\"seed\":%llu,\"photos\":%d,\"used\":%d,"
               "\"identities\":%d,\"seconds_features\":%.1f,\"seconds_train\":%.1f,"
               "\"final_epochs\":%d,\"model\":",
               a->train.arch, a->train.seed, r.photos, r.used, r.identities, r.seconds_features,
               r.seconds_train, r.final_epochs);
        cli_json_string(a->out);
        if (a->train.folds >= 2) {
            printf(",\"cv\":");
            print_metrics(name, &r.cv, 1);
            printf(",\"majority_baseline\":");
            print_metrics("majority class", &r.majority, 1);
        }
        printf("}\n");
        return EXIT_OK;
    }
    printf("%d photos of %d people, %d with a face; features/crops %.1f s, training %.1f s\n",
           r.photos, r.identities, r.used, r.seconds_features, r.seconds_train);
    if (a->train.folds >= 2) {
        print_header();
        print_metrics(name, &r.cv, 0);
        print_metrics("majority-class baseline", &r.majority, 0);
    }
    printf("wrote %s (%s, weights of epoch %d: best validation loss)\n", a->out, a->train.arch,
           r.final_epochs);
    return EXIT_OK;
}

static int eval(int argc, char **argv, gender_args *a)
{
    if (optind != argc - 1) return cli_usage_error("gender", "eval: give one DATA folder");
    if (!a->labels) return cli_usage_error("gender", "eval needs --labels");
    /* the given models, then every built-in one beside them */
    for (int i = 0; a->n_models < 16 && pl_gender_model_at(i, NULL); i++) {
        const char *name = pl_gender_model_at(i, NULL);
        int given = 0;
        for (int k = 0; k < a->n_models; k++) given |= !strcmp(a->models[k], name);
        if (!given) a->models[a->n_models++] = name;
    }
    pl_gender_metrics m[16];
    int photos = 0, skipped = 0;
    pl_error err = {0};
    if (pl_gender_eval(argv[optind], a->labels, a->models, a->n_models, a->train.threads, m,
                       &photos, &skipped, &err) != PL_OK)
        return cli_fail(&err);
    if (a->json) {
        printf("{\"estimate\":true,\"photos\":%d,\"without_face\":%d,\"models\":[", photos, skipped);
        for (int i = 0; i < a->n_models; i++) {
            if (i) printf(",");
            print_metrics(a->models[i], &m[i], 1);
        }
        printf("]}\n");
        return EXIT_OK;
    }
    printf("%d labelled photos, %d without a face (not counted)\n", photos, skipped);
    print_header();
    for (int i = 0; i < a->n_models; i++) print_metrics(a->models[i], &m[i], 0);
    return EXIT_OK;
}

int cmd_gender(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help();
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    gender_args a;
    int rc = parse(argc, argv, &a);
    if (rc < 0) return EXIT_OK;
    if (rc) return rc;
    if (!strcmp(argv[1], "predict")) return predict(argc, argv, &a);
    if (!strcmp(argv[1], "train")) return train(argc, argv, &a);
    if (!strcmp(argv[1], "eval")) return eval(argc, argv, &a);
    return cli_usage_error("gender", "unknown action '%s' (predict, train, eval)", argv[1]);
}
