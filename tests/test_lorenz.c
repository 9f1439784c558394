/* smnn-lorenz end to end. Default suite: a short run (128 chunks, 600 steps) must lower the loss
 * and move every true coefficient toward its value. With --slow (the 'slow' suite): the default
 * settings must recover all seven Lorenz coefficients within 0.5% and set the other 23 library
 * terms exactly to zero. The tool's path comes from SMNN_LORENZ (set by meson). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static int slow;

/* Ground truth, terms (1, x, y, z, x*x, x*y, x*z, y*y, y*z, z*z) x (dx, dy, dz). */
static const double truth[10][3] = {{0, 0, 0},  {-10, 28, 0}, {10, -1, 0},  {0, 0, -8.0 / 3},
                                    {0, 0, 0},  {0, 0, 1},    {0, -1, 0},   {0, 0, 0},
                                    {0, 0, 0},  {0, 0, 0}};

static char *run_tool(const char *args, int *status) {
    char cmd[2048], out[128];
    snprintf(out, sizeof out, "/tmp/smnn-lorenz-test-%ld.json", (long)getpid());
    snprintf(cmd, sizeof cmd, "%s --format json --progress 0 %s > %s", getenv("SMNN_LORENZ"), args,
             out);
    int st = system(cmd);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *f = fopen(out, "rb");
    static char buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    remove(out);
    return buf;
}

static double number_after(const char *json, const char *key) {
    const char *p = strstr(json, key);
    if (!p) fail_msg("no %s in output: %s", key, json);
    return strtod(p + strlen(key), NULL);
}

static void coefficients(const char *json, double xi[10][3]) {
    const char *p = strstr(json, "\"coefficients\": [");
    if (!p) fail_msg("no coefficients in output: %s", json);
    p += strlen("\"coefficients\": [");
    for (int k = 0; k < 10; k++) {
        p = strchr(p, '[');
        assert_non_null(p);
        p++;
        for (int v = 0; v < 3; v++) {
            char *end;
            xi[k][v] = strtod(p, &end);
            assert_true(end != p);
            p = end;
            while (*p == ',' || *p == ' ') p++;
        }
    }
}

static void test_lorenz(void **state) {
    (void)state;
    int status;
    char *json = run_tool(slow ? "" : "--iterations 600 --batch 128", &status);
    assert_int_equal(status, 0);
    double first = number_after(json, "\"first_loss\": ");
    double final = number_after(json, "\"final_loss\": ");
    double xi[10][3];
    coefficients(json, xi);
    fprintf(stderr, "# loss %.3e -> %.3e\n", first, final);
    assert_true(final < first / 100);
    int zeros = 0;
    for (int k = 0; k < 10; k++) {
        for (int v = 0; v < 3; v++) {
            double t = truth[k][v], x = xi[k][v];
            if (t == 0) {
                zeros += x == 0;
                continue;
            }
            double rel = fabs(x - t) / fabs(t);
            fprintf(stderr, "# term %d eq %d: %.5f (truth %.5f, %.3f%% off)\n", k, v, x, t, 100 * rel);
            if (slow) {
                if (!(rel <= 0.005)) fail_msg("term %d of equation %d: %g is %.3f%% off", k, v, x, 100 * rel);
            } else if (!(fabs(x - t) < fabs(t))) {
                fail_msg("term %d of equation %d did not move toward %g (now %g)", k, v, t, x);
            }
        }
    }
    fprintf(stderr, "# %d of 23 other terms exactly zero\n", zeros);
    if (slow) assert_int_equal(zeros, 23);
}

static void test_usage(void **state) {
    (void)state;
    if (slow) skip();
    const char *bad[] = {"--iterations 0", "--chunk 1", "--lr -1", "--format xml", "--bogus",
                         "--chunk 20000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int status;
        run_tool(bad[i], &status);
        if (status != 2) fail_msg("'%s' exited with %d, expected 2", bad[i], status);
    }
    int status;
    run_tool("--iterations 2 --batch 4 --device 77:77", &status);
    assert_int_equal(status, 1);
}

int main(int argc, char **argv) {
    slow = argc > 1 && !strcmp(argv[1], "--slow");
    if (!getenv("SMNN_LORENZ")) {
        fprintf(stderr, "SMNN_LORENZ must name the tool\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_lorenz), cmocka_unit_test(test_usage)};
    return cmocka_run_group_tests_name(slow ? "lorenz (slow)" : "lorenz", tests, NULL, NULL);
}
