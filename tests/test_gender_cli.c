/* `pasalista gender`: exit codes, messages and the estimate label in the
 * CLI's output (the library's behaviour is in test_gender.c). */
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "image/image.h"

#define TMP "build/tests/tmp_gender_cli"

TEST(usage_errors_exit_2)
{
    CHECK_EQ_INT(run("%s gender", cli()), 2);
    CHECK_CONTAINS(out, "ESTIMATE");
    CHECK_EQ_INT(run("%s gender train x --labels y.csv", cli()), 2);
    CHECK_CONTAINS(out, "--out");
    CHECK_EQ_INT(run("%s gender train x --labels y.csv --out z --arch resnet", cli()), 2);
    CHECK_EQ_INT(run("%s gender frobnicate x", cli()), 2);
    CHECK_EQ_INT(run("%s gender --help", cli()), 0);
    CHECK_CONTAINS(out, "faceres");
}

TEST(bad_data_exit_3_with_file_and_line)
{
    mkdir("build/tests", 0755);
    mkdir(TMP, 0755);
    mkdir(TMP "/d", 0755);
    pl_image img;
    CHECK(pl_image_new(32, 32, 3, &img, NULL) == PL_OK);
    memset(img.px, 90, 32 * 32 * 3);
    CHECK(pl_image_save_jpeg(TMP "/d/a.jpg", &img, 90, NULL) == PL_OK);
    pl_image_free(&img);
    FILE *f = fopen(TMP "/l.csv", "w");
    fputs("path,gender\na.jpg,Mujer\nmissing.jpg,M\n", f);
    fclose(f);
    CHECK_EQ_INT(run("%s gender train " TMP "/d --labels " TMP "/l.csv --out " TMP "/m.plg", cli()), 3);
    CHECK_CONTAINS(out, "l.csv:3: photo 'missing.jpg' not found");
    CHECK_EQ_INT(run("%s gender predict " TMP "/d/a.jpg --model " TMP "/l.csv", cli()), 3);
    CHECK_CONTAINS(out, "PLGENDER");
}

TEST(predict_json_says_estimate)
{
    char photo[1024];
    snprintf(photo, sizeof photo, "%s/faces/identities/angelina_jolie/1.jpg", test_shared_dir());
    if (access(photo, R_OK) != 0 || access("models/human/gender-ssrnet-imdb.json", R_OK) != 0)
        SKIP("needs ../shared/faces and models/");
    CHECK_EQ_INT(run("%s gender predict %s --model ssrnet --json", cli(), photo), 0);
    CHECK_CONTAINS(out, "\"estimate\":true");
    CHECK_CONTAINS(out, "\"gender_estimate\":\"F\"");
    CHECK_EQ_INT(run("%s gender predict %s --model ssrnet", cli(), photo), 0);
    CHECK_CONTAINS(out, "F (estimate, P(male)");
}

TEST(take_gender_is_an_estimate_and_off_by_default)
{
    char src[1024];
    snprintf(src, sizeof src, "%s/faces/identities", test_shared_dir());
    if (access(src, R_OK) != 0 || access("models/human/gender-ssrnet-imdb.json", R_OK) != 0)
        SKIP("needs ../shared/faces and models/");
    mkdir("build/tests", 0755);
    mkdir(TMP, 0755);
    CHECK_EQ_INT(run("rm -rf " TMP "/enr " TMP "/db.sqlite && mkdir -p " TMP "/enr/angelina_jolie "
                     TMP "/enr/alex_lacamoire && cp %s/angelina_jolie/1.jpg " TMP
                     "/enr/angelina_jolie/ && cp %s/alex_lacamoire/1.jpg " TMP "/enr/alex_lacamoire/",
                     src, src),
                 0);
    CHECK_EQ_INT(run("%s enroll " TMP "/enr --db " TMP "/db.sqlite", cli()), 0);
    CHECK_EQ_INT(run("%s take %s/angelina_jolie/2.jpg %s/alex_lacamoire/2.jpg --db " TMP "/db.sqlite",
                     cli(), src, src),
                 0);
    CHECK(strstr(out, "GENDER") == NULL); /* off by default */
    CHECK_EQ_INT(run("%s take %s/angelina_jolie/2.jpg %s/alex_lacamoire/2.jpg --db " TMP
                     "/db.sqlite --gender=ssrnet",
                     cli(), src, src),
                 0);
    CHECK_CONTAINS(out, "GENDER ESTIMATE (model ssrnet; from the face, not used for attendance)");
    CHECK_CONTAINS(out, "present: 1 M, 1 F (estimated)");
    CHECK_EQ_INT(run("%s take %s/angelina_jolie/2.jpg --db " TMP "/db.sqlite --gender=ssrnet --json",
                     cli(), src),
                 0);
    CHECK_CONTAINS(out, "\"gender_estimate\":{\"note\":\"estimate from the face; not used for attendance\"");
    CHECK_CONTAINS(out, "\"present\":{\"M\":0,\"F\":1}");
}
