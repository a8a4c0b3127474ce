/* Tests of the gender estimate: labels-file errors, model-file errors,
 * metrics, the pretrained networks on ../shared/faces, and a small
 * training run that must be bit-identical for the same seed. */
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "face/gender.h"
#include "image/image.h"
#include "pasalista.h"
#include "train/model_file.h"
#include "train/rng.h"

#define TMP "build/tests/tmp_gender"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* A folder with two small synthetic photos (no faces: the labels are
 * checked before any photo is read). */
static void make_data(void)
{
    mkdir("build/tests", 0755);
    mkdir(TMP, 0755);
    mkdir(TMP "/data", 0755);
    mkdir(TMP "/data/p1", 0755);
    pl_image img;
    CHECK(pl_image_new(64, 64, 3, &img, NULL) == PL_OK);
    for (int i = 0; i < 64 * 64 * 3; i++) img.px[i] = (uint8_t)(i * 7);
    CHECK(pl_image_save_jpeg(TMP "/data/p1/a.jpg", &img, 90, NULL) == PL_OK);
    CHECK(pl_image_save_jpeg(TMP "/data/p1/b.jpg", &img, 90, NULL) == PL_OK);
    pl_image_free(&img);
}

static pl_status train_with(const char *csv_text, pl_error *err)
{
    write_text(TMP "/labels.csv", csv_text);
    pl_gender_train_options o;
    pl_gender_train_options_default(&o);
    pl_gender_train_report r;
    return pl_gender_train(TMP "/data", TMP "/labels.csv", TMP "/out.plg", &o, &r, err);
}

TEST(labels_missing_photo_named_with_line)
{
    make_data();
    pl_error err = {0};
    CHECK(train_with("path,gender\np1/a.jpg,M\np1/nope.jpg,F\n", &err) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "labels.csv:3");
    CHECK_CONTAINS(err.msg, "p1/nope.jpg");
}

TEST(labels_crlf_and_blank_lines_keep_line_numbers)
{
    make_data();
    pl_error err = {0};
    CHECK(train_with("path,gender\r\n\r\np1/a.jpg , F\r\np1/x.jpg,M\r\n", &err) == PL_ERR_NOTFOUND);
    CHECK_CONTAINS(err.msg, "labels.csv:4: photo 'p1/x.jpg' not found");
}

TEST(labels_unknown_label)
{
    make_data();
    pl_error err = {0};
    CHECK(train_with("path,gender\np1/a.jpg,M\np1/b.jpg,X\n", &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "labels.csv:3");
    CHECK_CONTAINS(err.msg, "unknown gender label 'X'");
}

TEST(labels_single_class)
{
    make_data();
    pl_error err = {0};
    CHECK(train_with("p1/a.jpg,hombre\np1/b.jpg,male\n", &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "both M and F");
}

TEST(labels_empty)
{
    make_data();
    pl_error err = {0};
    CHECK(train_with("path,gender\n", &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "no labelled photos");
}

TEST(empty_folder)
{
    make_data();
    mkdir(TMP "/empty", 0755);
    write_text(TMP "/labels.csv", "a.jpg,M\nb.jpg,F\n");
    pl_gender_train_options o;
    pl_gender_train_options_default(&o);
    pl_gender_train_report r;
    pl_error err = {0};
    CHECK(pl_gender_train(TMP "/empty", TMP "/labels.csv", TMP "/out.plg", &o, &r, &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "empty folder");
    pl_gender_metrics m;
    const char *models[] = {"faceres"};
    if (access("models/human/faceres.json", R_OK) == 0) {
        CHECK(pl_gender_eval(TMP "/empty", TMP "/labels.csv", models, 1, 1, &m, NULL, NULL, &err) != PL_OK);
        CHECK_CONTAINS(err.msg, "empty folder");
    }
}

TEST(unknown_model_and_bad_model_files)
{
    make_data();
    pl_error err = {0};
    CHECK(pl_gender_open("nonsense", 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, "unknown gender model 'nonsense'");
    CHECK_CONTAINS(err.msg, "faceres");
    write_text(TMP "/junk.plg", "this is not a model");
    CHECK(pl_gender_open(TMP "/junk.plg", 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, "junk.plg");
    CHECK_CONTAINS(err.msg, "PLGENDER");
    /* a real file, cut short */
    tr_model m;
    CHECK(tr_model_build(&m, "small-cnn", 3, 48, 48, 2, &err) == PL_OK);
    tr_rng rng;
    tr_rng_seed(&rng, 1);
    tr_net_init_weights(&m.net, &rng);
    CHECK(tr_model_save(&m, TMP "/cnn.plg", &err) == PL_OK);
    tr_model_free(&m);
    CHECK(truncate(TMP "/cnn.plg", 5000) == 0);
    CHECK(pl_gender_open(TMP "/cnn.plg", 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, "cnn.plg");
    CHECK(strstr(err.msg, "truncated") || strstr(err.msg, "checksum"));
    /* a head whose input does not match its feature network */
    if (access("models/faceplugin/fr_feature.onnx", R_OK) != 0) SKIP("no fr_feature model");
    CHECK(tr_model_build(&m, "head", 100, 1, 1, 2, &err) == PL_OK);
    snprintf(m.feature, sizeof m.feature, "fr-feature");
    tr_net_init_weights(&m.net, &rng);
    CHECK(tr_model_save(&m, TMP "/head.plg", &err) == PL_OK);
    tr_model_free(&m);
    CHECK(pl_gender_open(TMP "/head.plg", 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, "head reads 100 features; fr-feature gives 512");
}

TEST(metrics_by_hand)
{
    pl_gender_metrics m = {0};
    m.confusion[0][0] = 8, m.confusion[0][1] = 2; /* 10 F: 8 right */
    m.confusion[1][0] = 1, m.confusion[1][1] = 9; /* 10 M: 9 right */
    pl_gender_metrics_finish(&m);
    CHECK_EQ_INT(m.n, 20);
    CHECK_NEAR(m.accuracy, 17.0 / 20, 1e-12);
    CHECK_NEAR(m.precision[0], 8.0 / 9, 1e-12);
    CHECK_NEAR(m.recall[0], 0.8, 1e-12);
    CHECK_NEAR(m.precision[1], 9.0 / 11, 1e-12);
    CHECK_NEAR(m.f1[1], 2 * (9.0 / 11) * 0.9 / (9.0 / 11 + 0.9), 1e-12);
    CHECK_STR(pl_gender_label(0.5f), "M");
    CHECK_STR(pl_gender_label(0.49f), "F");
}

TEST(face_mirror_swaps_sides)
{
    pl_face f = {10, 20, 50, 70, 0.9f, {20, 30, 40, 30, 30, 45, 22, 60, 38, 60}};
    pl_face m = pl_face_mirror(&f, 100);
    CHECK_NEAR(m.x1, 49, 1e-6);
    CHECK_NEAR(m.x2, 89, 1e-6);
    CHECK_NEAR(m.landmarks[0], 59, 1e-6); /* new left eye = old right eye mirrored */
    CHECK_NEAR(m.landmarks[2], 79, 1e-6);
    CHECK_NEAR(m.landmarks[4], 69, 1e-6);
}

/* The first three women and three men of ../shared/faces/gender.csv,
 * every photo of each. */
static int write_subset(const char *csv_out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/faces/gender.csv", test_shared_dir());
    FILE *in = fopen(path, "r");
    if (!in) return 0;
    FILE *out = fopen(csv_out, "w");
    char line[1024];
    int women = 0, men = 0;
    while (fgets(line, sizeof line, in)) {
        if (strncmp(line, "identities/", 11)) continue;
        int f = strstr(line, ",F") != NULL;
        char id[256];
        sscanf(line + 11, "%255[^/]", id);
        static char seen[6][256];
        int k, known = 0;
        for (k = 0; k < women + men; k++)
            if (!strcmp(seen[k], id)) known = 1;
        if (!known) {
            if ((f && women == 3) || (!f && men == 3)) continue;
            snprintf(seen[women + men], 256, "%s", id);
            f ? women++ : men++;
        }
        fputs(line, out);
    }
    fclose(in);
    fclose(out);
    return women == 3 && men == 3;
}

static int have_shared(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/faces/gender.csv", test_shared_dir());
    return access(path, R_OK) == 0 && access("models/expo/pnet.tflite", R_OK) == 0;
}

TEST(pretrained_models_on_shared_subset)
{
    if (!have_shared()) SKIP("needs ../shared/faces and models/");
    mkdir("build/tests", 0755);
    mkdir(TMP, 0755);
    CHECK(write_subset(TMP "/subset.csv"));
    char data[1024];
    snprintf(data, sizeof data, "%s/faces", test_shared_dir());
    int n = 0;
    const char *name;
    const char *models[8];
    while ((name = pl_gender_model_at(n, NULL))) models[n++] = name;
    pl_gender_metrics m[8];
    int photos = 0, skipped = 0;
    pl_error err = {0};
    CHECK_MSG(pl_gender_eval(data, TMP "/subset.csv", models, n, 2, m, &photos, &skipped, &err) == PL_OK,
              "%s", err.msg);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "    %-10s accuracy %.3f on %d photos\n", models[i], m[i].accuracy, m[i].n);
    CHECK(photos > 10 && skipped == 0);
    CHECK(m[0].accuracy >= 0.95); /* faceres, the default */
    for (int i = 0; i < n; i++) CHECK(m[i].accuracy > 0.6);
}

TEST(training_same_seed_same_bytes)
{
    if (!have_shared()) SKIP("needs ../shared/faces and models/");
    mkdir("build/tests", 0755);
    mkdir(TMP, 0755);
    CHECK(write_subset(TMP "/subset.csv"));
    char data[1024];
    snprintf(data, sizeof data, "%s/faces", test_shared_dir());
    pl_gender_train_options o;
    pl_gender_train_options_default(&o);
    o.epochs = 2;
    o.folds = 3;
    o.seed = 7;
    pl_gender_train_report r1, r2, r3;
    pl_error err = {0};
    CHECK_MSG(pl_gender_train(data, TMP "/subset.csv", TMP "/s7a.plg", &o, &r1, &err) == PL_OK, "%s", err.msg);
    CHECK_MSG(pl_gender_train(data, TMP "/subset.csv", TMP "/s7b.plg", &o, &r2, &err) == PL_OK, "%s", err.msg);
    o.seed = 8;
    CHECK_MSG(pl_gender_train(data, TMP "/subset.csv", TMP "/s8.plg", &o, &r3, &err) == PL_OK, "%s", err.msg);
    CHECK_EQ_INT(r1.identities, 6);
    CHECK(memcmp(r1.cv.confusion, r2.cv.confusion, sizeof r1.cv.confusion) == 0);
    uint8_t *a, *b, *c;
    size_t la, lb, lc;
    FILE *f;
    CHECK((f = fopen(TMP "/s7a.plg", "rb")) != NULL);
    a = malloc(1 << 20), la = fread(a, 1, 1 << 20, f), fclose(f);
    CHECK((f = fopen(TMP "/s7b.plg", "rb")) != NULL);
    b = malloc(1 << 20), lb = fread(b, 1, 1 << 20, f), fclose(f);
    CHECK((f = fopen(TMP "/s8.plg", "rb")) != NULL);
    c = malloc(1 << 20), lc = fread(c, 1, 1 << 20, f), fclose(f);
    int same = la == lb && memcmp(a, b, la) == 0, differs = la != lc || memcmp(a, c, la) != 0;
    free(a);
    free(b);
    free(c);
    CHECK_MSG(same, "same seed gave different model files");
    CHECK_MSG(differs, "another seed gave the same model file");
    /* the trained file predicts through the same API as the built-ins */
    pl_gender *g = pl_gender_open(TMP "/s7a.plg", 1, &err);
    CHECK_MSG(g != NULL, "%s", err.msg);
    char photo[1024];
    snprintf(photo, sizeof photo, "%s/faces/identities/angelina_jolie/1.jpg", test_shared_dir());
    pl_gender_face *faces = NULL;
    int nf = 0;
    CHECK(pl_gender_predict_photo(g, photo, &faces, &nf, &err) == PL_OK);
    CHECK(nf >= 1 && faces[0].p_male >= 0 && faces[0].p_male <= 1);
    free(faces);
    pl_gender_close(g);
}

static int log_has_reuse;
static void capture(void *ctx, const char *line)
{
    (void)ctx;
    if (strstr(line, "22 of 22 photos reused")) log_has_reuse = 1;
}

TEST(head_features_cache_gives_same_model)
{
    if (!have_shared() || access("models/faceplugin/fr_feature.onnx", R_OK) != 0)
        SKIP("needs ../shared/faces and models/");
    mkdir("build/tests", 0755);
    mkdir(TMP, 0755);
    CHECK(write_subset(TMP "/subset.csv"));
    char data[1024];
    snprintf(data, sizeof data, "%s/faces", test_shared_dir());
    remove(TMP "/feat.cache");
    pl_gender_train_options o;
    pl_gender_train_options_default(&o);
    o.arch = "head";
    o.feature = "fr-feature";
    o.epochs = 3;
    o.folds = 0;
    o.cache = TMP "/feat.cache";
    o.log = capture;
    pl_gender_train_report r;
    pl_error err = {0};
    CHECK_MSG(pl_gender_train(data, TMP "/subset.csv", TMP "/h1.plg", &o, &r, &err) == PL_OK, "%s", err.msg);
    CHECK(access(TMP "/feat.cache", R_OK) == 0);
    log_has_reuse = 0;
    CHECK_MSG(pl_gender_train(data, TMP "/subset.csv", TMP "/h2.plg", &o, &r, &err) == PL_OK, "%s", err.msg);
    CHECK(log_has_reuse);
    FILE *f1 = fopen(TMP "/h1.plg", "rb"), *f2 = fopen(TMP "/h2.plg", "rb");
    CHECK(f1 && f2);
    static unsigned char a[1 << 20], b[1 << 20];
    size_t la = fread(a, 1, sizeof a, f1), lb = fread(b, 1, sizeof b, f2);
    fclose(f1);
    fclose(f2);
    CHECK(la == lb && memcmp(a, b, la) == 0);
}
