/* netcert's per-point evaluator in C over GMP: evaluate.forward, node for node, without the
 * interpreter (perf.md, "Where the physical limit is").
 *
 * The program is evaluate.Program with every constant an integer: shared forms L_f = sum c v_s
 * (zero values skipped), nodes z = m L_f + B, breakpoint tables z = B + L (ps_k + ns_j) + pi_k + ni_j
 * with k = #{pos breakpoints <= L}, j = #{neg breakpoints < L} (the rational breakpoints given as
 * their ceilings and floors: for an integer L, tau <= L iff ceil(tau) <= L and tau < L iff
 * floor(tau) < L), then relu, identity or threshold. Programs with rational-fallback nodes stay
 * in Python. Consecutive points reuse what did not change: a form is recomputed only when one of
 * its sources changed value, a node only when its form did (evaluate._Sweep's rule), so points in
 * the sweep order skip most of the work. Every value is an exact GMP integer; nothing is rounded.
 */
#include <gmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { RELU = 0, IDENTITY = 1, THRESHOLD = 2 };
enum { NODE = 0, TABLE = 1 };
/* A step is 12 integers: kind, slot, activation, form, then for a node: m, B (constant indices);
 * for a table: 0, B, n_pos, pos_tau, slopes, intercepts, n_neg, neg_tau, where pos_tau and neg_tau
 * start runs of n_pos and n_neg constants, and slopes (intercepts) starts pos_slope (n_pos + 1
 * constants) followed by neg_slope (n_neg + 1). */
enum { STEP_FIELDS = 12 };

typedef struct {
    int64_t n_slots, n_forms, n_steps, n_inputs, output_slot, n_consts;
    int64_t *input_slots, *form_start, *term_slot, *term_coef, *steps, *before_start, *before_form;
    mpz_t *consts, *vals, *L, *outs;
    mpz_t z, acc;
    char *slot_changed, *form_changed;
    int64_t n_outs, fresh;
} program;

static int64_t *copy(const int64_t *src, int64_t n) {
    int64_t *dst = malloc((n > 0 ? n : 1) * sizeof(int64_t));
    if (dst && n > 0) memcpy(dst, src, n * sizeof(int64_t));
    return dst;
}

/* Constants: lengths[i] bytes of |c_i|, big-endian, negative length for a negative constant. */
program *nc_new(const int64_t *header, const int64_t *input_slots, const int64_t *form_start,
                const int64_t *term_slot, const int64_t *term_coef, const int64_t *steps,
                const int64_t *before_start, const int64_t *before_form,
                const int64_t *lengths, const unsigned char *bytes) {
    program *p = calloc(1, sizeof(program));
    if (!p) return NULL;
    p->n_slots = header[0]; p->n_forms = header[1]; p->n_steps = header[2];
    p->n_inputs = header[3]; p->output_slot = header[4]; p->n_consts = header[5];
    int64_t n_terms = form_start[p->n_forms];
    p->input_slots = copy(input_slots, p->n_inputs);
    p->form_start = copy(form_start, p->n_forms + 1);
    p->term_slot = copy(term_slot, n_terms);
    p->term_coef = copy(term_coef, n_terms);
    p->steps = copy(steps, p->n_steps * STEP_FIELDS);
    p->before_start = copy(before_start, p->n_steps + 1);
    p->before_form = copy(before_form, before_start[p->n_steps]);
    p->consts = malloc((p->n_consts + 1) * sizeof(mpz_t));
    p->vals = malloc((p->n_slots + 1) * sizeof(mpz_t));
    p->L = malloc((p->n_forms + 1) * sizeof(mpz_t));
    p->slot_changed = calloc(p->n_slots + 1, 1);
    p->form_changed = calloc(p->n_forms + 1, 1);
    const unsigned char *at = bytes;
    for (int64_t i = 0; i < p->n_consts; i++) {
        int64_t n = lengths[i] < 0 ? -lengths[i] : lengths[i];
        mpz_init(p->consts[i]);
        mpz_import(p->consts[i], (size_t)n, 1, 1, 1, 0, at);
        if (lengths[i] < 0) mpz_neg(p->consts[i], p->consts[i]);
        at += n;
    }
    for (int64_t i = 0; i < p->n_slots; i++) mpz_init(p->vals[i]);
    for (int64_t i = 0; i < p->n_forms; i++) mpz_init(p->L[i]);
    mpz_init(p->z); mpz_init(p->acc);
    p->fresh = 1;
    return p;
}

void nc_free(program *p) {
    if (!p) return;
    for (int64_t i = 0; i < p->n_consts; i++) mpz_clear(p->consts[i]);
    for (int64_t i = 0; i < p->n_slots; i++) mpz_clear(p->vals[i]);
    for (int64_t i = 0; i < p->n_forms; i++) mpz_clear(p->L[i]);
    for (int64_t i = 0; i < p->n_outs; i++) mpz_clear(p->outs[i]);
    mpz_clear(p->z); mpz_clear(p->acc);
    free(p->input_slots); free(p->form_start); free(p->term_slot); free(p->term_coef); free(p->steps);
    free(p->before_start); free(p->before_form); free(p->consts); free(p->vals); free(p->L); free(p->outs);
    free(p->slot_changed); free(p->form_changed); free(p);
}

/* The number of sorted integers t[0..n) with t <= L (strict = 0) or t < L (strict = 1). */
static int64_t count_below(mpz_t *t, int64_t n, const mpz_t L, int strict) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = mpz_cmp(t[mid], L);
        if (c < 0 || (c == 0 && !strict)) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static void form_value(program *p, int64_t f) {
    int64_t fresh = p->fresh, dirty = fresh;
    for (int64_t t = p->form_start[f]; t < p->form_start[f + 1] && !dirty; t++)
        dirty = p->slot_changed[p->term_slot[t]];
    if (!dirty) { p->form_changed[f] = 0; return; }
    mpz_set_ui(p->acc, 0);
    for (int64_t t = p->form_start[f]; t < p->form_start[f + 1]; t++) {
        mpz_srcptr v = p->vals[p->term_slot[t]];
        if (mpz_sgn(v)) mpz_addmul(p->acc, p->consts[p->term_coef[t]], v);
    }
    p->form_changed[f] = fresh || mpz_cmp(p->acc, p->L[f]) != 0;
    if (p->form_changed[f]) mpz_swap(p->acc, p->L[f]);
}

static void step_value(program *p, const int64_t *s) {
    int64_t slot = s[1], act = s[2], form = s[3];
    if (!p->fresh && !p->form_changed[form]) { p->slot_changed[slot] = 0; return; }
    mpz_srcptr L = p->L[form];
    if (s[0] == NODE) {
        mpz_mul(p->z, p->consts[s[4]], L);
        mpz_add(p->z, p->z, p->consts[s[5]]);
    } else {
        int64_t k = count_below(p->consts + s[7], s[6], L, 0);
        int64_t j = count_below(p->consts + s[11], s[10], L, 1);
        mpz_add(p->acc, p->consts[s[8] + k], p->consts[s[8] + s[6] + 1 + j]);
        mpz_mul(p->z, p->acc, L);
        mpz_add(p->z, p->z, p->consts[s[5]]);
        mpz_add(p->z, p->z, p->consts[s[9] + k]);
        mpz_add(p->z, p->z, p->consts[s[9] + s[6] + 1 + j]);
    }
    if (act == RELU && mpz_sgn(p->z) < 0) mpz_set_ui(p->z, 0);
    else if (act == THRESHOLD) mpz_set_ui(p->z, mpz_sgn(p->z) >= 0);
    p->slot_changed[slot] = p->fresh || mpz_cmp(p->z, p->vals[slot]) != 0;
    if (p->slot_changed[slot]) mpz_swap(p->z, p->vals[slot]);
}

static int reserve(program *p, int64_t n) {
    if (n <= p->n_outs) return 1;
    mpz_t *outs = realloc(p->outs, n * sizeof(mpz_t));
    if (!outs) return 0;
    p->outs = outs;
    for (int64_t i = p->n_outs; i < n; i++) mpz_init(p->outs[i]);
    p->n_outs = n;
    return 1;
}

static void set_input(program *p, int64_t k, mpz_srcptr x) {
    int64_t slot = p->input_slots[k];
    p->slot_changed[slot] = p->fresh || mpz_cmp(x, p->vals[slot]) != 0;
    if (p->slot_changed[slot]) mpz_set(p->vals[slot], x);
}

static void run_point(program *p, int64_t i) {
    for (int64_t s = 0; s < p->n_steps; s++) {
        for (int64_t b = p->before_start[s]; b < p->before_start[s + 1]; b++) form_value(p, p->before_form[b]);
        step_value(p, p->steps + s * STEP_FIELDS);
    }
    mpz_set(p->outs[i], p->vals[p->output_slot]);
    p->fresh = 0;
}

/* Points given as int64 numerators, row-major (n x inputs). Returns 0, or -1 out of memory. */
int nc_run_i64(program *p, int64_t n, const int64_t *X) {
    if (!reserve(p, n)) return -1;
    mpz_t x;
    mpz_init(x);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < p->n_inputs; k++) {
            mpz_set_si(x, X[i * p->n_inputs + k]);
            set_input(p, k, x);
        }
        run_point(p, i);
    }
    mpz_clear(x);
    return 0;
}

/* Points given as constants are (lengths with signs, big-endian magnitudes), n x inputs of them. */
int nc_run_bytes(program *p, int64_t n, const int64_t *lengths, const unsigned char *bytes) {
    if (!reserve(p, n)) return -1;
    mpz_t x;
    mpz_init(x);
    const unsigned char *at = bytes;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < p->n_inputs; k++) {
            int64_t len = lengths[i * p->n_inputs + k], m = len < 0 ? -len : len;
            mpz_import(x, (size_t)m, 1, 1, 1, 0, at);
            if (len < 0) mpz_neg(x, x);
            at += m;
            set_input(p, k, x);
        }
        run_point(p, i);
    }
    mpz_clear(x);
    return 0;
}

/* Bytes of |output i| (0 for zero), negative for a negative output. */
int64_t nc_output_size(program *p, int64_t i) {
    int64_t n = mpz_sgn(p->outs[i]) ? (int64_t)((mpz_sizeinbase(p->outs[i], 2) + 7) / 8) : 0;
    return mpz_sgn(p->outs[i]) < 0 ? -n : n;
}

/* The outputs 0..n-1 as (sizes, big-endian magnitudes back to back). */
void nc_export(program *p, int64_t n, int64_t *sizes, unsigned char *bytes) {
    unsigned char *at = bytes;
    for (int64_t i = 0; i < n; i++) {
        sizes[i] = nc_output_size(p, i);
        size_t written = 0;
        if (sizes[i]) mpz_export(at, &written, 1, 1, 1, 0, p->outs[i]);
        at += written;
    }
}

int64_t nc_export_size(program *p, int64_t n) {
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t s = nc_output_size(p, i);
        total += s < 0 ? -s : s;
    }
    return total;
}
