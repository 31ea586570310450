/* netcert's per-point evaluator in C over GMP: pointwise.forward, node for node, without the
 * interpreter (docs/performance.md, "The per-point path").
 *
 * The program is program.Program (netcert/engine/program.py) with every constant an integer: shared forms L_f = sum c v_s
 * (zero values skipped), nodes z = m L_f + B, breakpoint tables z = B + L (ps_k + ns_j) + pi_k + ni_j
 * with k = #{pos breakpoints <= L}, j = #{neg breakpoints < L} (the rational breakpoints given as
 * their ceilings and floors: for an integer L, tau <= L iff ceil(tau) <= L and tau < L iff
 * floor(tau) < L), then relu, identity or threshold. Programs with rational-fallback nodes stay
 * in Python. Consecutive points reuse what did not change: a form is recomputed only when one of
 * its sources changed value, a node only when its form did (pointwise.Sweep's rule), so points in
 * the sweep order skip most of the work; where a probe finds nearly nothing to skip, the checks stop. Every value is exact: an int64 while it fits (each
 * product and sum checked with the compiler's overflow builtins), a GMP integer from the first
 * operation that would overflow; a value that fits is always held as an int64, so equal values
 * have equal representations. Nothing is rounded.
 */
#include <gmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(long) == 8, "GMP's si/ui functions must take 64-bit integers");

enum { RELU = 0, IDENTITY = 1, THRESHOLD = 2 };
enum { NODE = 0, TABLE = 1 };
/* A step is 12 integers: kind, slot, activation, form, then for a node: m, B (constant indices);
 * for a table: 0, B, n_pos, pos_tau, slopes, intercepts, n_neg, neg_tau, where pos_tau and neg_tau
 * start runs of n_pos and n_neg constants, and slopes (intercepts) starts pos_slope (n_pos + 1
 * constants) followed by neg_slope (n_neg + 1). */
enum { STEP_FIELDS = 12 };

/* An exact integer: s when !big, else z. Normal form: big exactly when the value needs more
 * than 64 bits. */
typedef struct {
    int64_t s;
    int big;
    mpz_t z;
} num;

typedef struct {
    int64_t n_slots, n_forms, n_steps, n_inputs, n_outputs, n_consts;
    int64_t *output_slots, *input_slots, *form_start, *term_slot, *term_coef, *steps, *before_start, *before_form;
    num *consts, *vals, *L;
    num acc, z;
    mpz_t tmp, *outs;
    char *slot_changed, *form_changed;
    int64_t n_outs, fresh;
    int64_t reuse, probed, recomputed; /* see run_point */
} program;

/* -- exact integers: int64 while they fit --------------------------------------------------- */

static void num_init(num *a) { a->s = 0; a->big = 0; mpz_init(a->z); }

static void num_normalize(num *a) {
    if (a->big && mpz_fits_slong_p(a->z)) { a->s = mpz_get_si(a->z); a->big = 0; }
}

static void num_set_mpz(num *a, mpz_srcptr x) {
    if (mpz_fits_slong_p(x)) { a->s = mpz_get_si(x); a->big = 0; }
    else { mpz_set(a->z, x); a->big = 1; }
}

static int num_sgn(const num *a) { return a->big ? mpz_sgn(a->z) : (a->s > 0) - (a->s < 0); }

static int num_cmp(const num *a, const num *b) {
    if (!a->big && !b->big) return (a->s > b->s) - (a->s < b->s);
    if (!b->big) return mpz_cmp_si(a->z, b->s);
    if (!a->big) return -mpz_cmp_si(b->z, a->s);
    return mpz_cmp(a->z, b->z);
}

/* Both in normal form: equal values have the same representation. */
static int num_eq(const num *a, const num *b) {
    if (a->big != b->big) return 0;
    return a->big ? mpz_cmp(a->z, b->z) == 0 : a->s == b->s;
}

/* dst = src, leaving src a valid scratch value: a GMP value moves by mpz_swap; an int64 is copied
 * field by field (copying the struct whole would load fields just written by narrower stores,
 * which defeats store forwarding: measured 1.5x slower on park2021). */
static void num_move(num *dst, num *src) {
    if (src->big) { mpz_swap(dst->z, src->z); dst->big = 1; }
    else { dst->s = src->s; dst->big = 0; }
}

static void widen(num *a) {
    if (!a->big) { mpz_set_si(a->z, a->s); a->big = 1; }
}

static void addmul_si(mpz_t r, mpz_srcptr a, int64_t b) {
    if (b >= 0) mpz_addmul_ui(r, a, (unsigned long)b);
    else mpz_submul_ui(r, a, -(unsigned long)b); /* 2^63 for INT64_MIN: exact in unsigned */
}

/* acc += c v, beyond int64 (acc may leave normal form; num_normalize restores it). */
static __attribute__((noinline)) void acc_addmul_big(num *acc, const num *c, const num *v, mpz_t tmp) {
    widen(acc);
    if (!c->big && !v->big) { mpz_set_si(tmp, c->s); addmul_si(acc->z, tmp, v->s); }
    else if (!c->big) addmul_si(acc->z, v->z, c->s);
    else if (!v->big) addmul_si(acc->z, c->z, v->s);
    else mpz_addmul(acc->z, c->z, v->z);
}

/* acc += c v: inline while everything fits in an int64, the common case. */
static inline void acc_addmul(num *acc, const num *c, const num *v, mpz_t tmp) {
    int64_t p, q;
    if (!acc->big && !c->big && !v->big && !__builtin_mul_overflow(c->s, v->s, &p)
        && !__builtin_add_overflow(acc->s, p, &q)) acc->s = q;
    else acc_addmul_big(acc, c, v, tmp);
}

/* acc += b, beyond int64 */
static __attribute__((noinline)) void acc_add_big(num *acc, const num *b) {
    widen(acc);
    if (b->big) mpz_add(acc->z, acc->z, b->z);
    else if (b->s >= 0) mpz_add_ui(acc->z, acc->z, (unsigned long)b->s);
    else mpz_sub_ui(acc->z, acc->z, -(unsigned long)b->s);
}

/* acc += b */
static inline void acc_add(num *acc, const num *b) {
    int64_t q;
    if (!acc->big && !b->big && !__builtin_add_overflow(acc->s, b->s, &q)) acc->s = q;
    else acc_add_big(acc, b);
}

static void acc_zero(num *acc) { acc->s = 0; acc->big = 0; }

/* -- the program --------------------------------------------------------------------------- */

static int64_t *copy(const int64_t *src, int64_t n) {
    int64_t *dst = malloc((n > 0 ? n : 1) * sizeof(int64_t));
    if (dst && n > 0) memcpy(dst, src, n * sizeof(int64_t));
    return dst;
}

static num *nums(int64_t n) {
    num *a = malloc((n > 0 ? n : 1) * sizeof(num));
    if (a) for (int64_t i = 0; i < n; i++) num_init(a + i);
    return a;
}

/* Constants: lengths[i] bytes of |c_i|, big-endian, negative length for a negative constant. */
program *nc_new(const int64_t *header, const int64_t *input_slots, const int64_t *form_start,
                const int64_t *term_slot, const int64_t *term_coef, const int64_t *steps,
                const int64_t *before_start, const int64_t *before_form,
                const int64_t *lengths, const unsigned char *bytes) {
    program *p = calloc(1, sizeof(program));
    if (!p) return NULL;
    p->n_slots = header[0]; p->n_forms = header[1]; p->n_steps = header[2];
    p->n_inputs = header[3]; p->n_outputs = header[4]; p->n_consts = header[5];
    p->output_slots = copy(header + 6, p->n_outputs);  /* the output slots follow the header */
    int64_t n_terms = form_start[p->n_forms];
    p->input_slots = copy(input_slots, p->n_inputs);
    p->form_start = copy(form_start, p->n_forms + 1);
    p->term_slot = copy(term_slot, n_terms);
    p->term_coef = copy(term_coef, n_terms);
    p->steps = copy(steps, p->n_steps * STEP_FIELDS);
    p->before_start = copy(before_start, p->n_steps + 1);
    p->before_form = copy(before_form, before_start[p->n_steps]);
    p->consts = nums(p->n_consts);
    p->vals = nums(p->n_slots);
    p->L = nums(p->n_forms);
    p->slot_changed = calloc(p->n_slots + 1, 1);
    p->form_changed = calloc(p->n_forms + 1, 1);
    num_init(&p->acc); num_init(&p->z); mpz_init(p->tmp);
    const unsigned char *at = bytes;
    for (int64_t i = 0; i < p->n_consts; i++) {
        int64_t n = lengths[i] < 0 ? -lengths[i] : lengths[i];
        mpz_import(p->tmp, (size_t)n, 1, 1, 1, 0, at);
        if (lengths[i] < 0) mpz_neg(p->tmp, p->tmp);
        num_set_mpz(p->consts + i, p->tmp);
        at += n;
    }
    p->fresh = 1;
    p->reuse = 1;
    return p;
}

static void free_nums(num *a, int64_t n) {
    for (int64_t i = 0; i < n; i++) mpz_clear(a[i].z);
    free(a);
}

void nc_free(program *p) {
    if (!p) return;
    free_nums(p->consts, p->n_consts); free_nums(p->vals, p->n_slots); free_nums(p->L, p->n_forms);
    for (int64_t i = 0; i < p->n_outs; i++) mpz_clear(p->outs[i]);
    mpz_clear(p->acc.z); mpz_clear(p->z.z); mpz_clear(p->tmp);
    free(p->output_slots); free(p->input_slots); free(p->form_start); free(p->term_slot); free(p->term_coef); free(p->steps);
    free(p->before_start); free(p->before_form); free(p->outs);
    free(p->slot_changed); free(p->form_changed); free(p);
}

/* The number of sorted integers t[0..n) with t <= L (strict = 0) or t < L (strict = 1). */
static int64_t count_below(const num *t, int64_t n, const num *L, int strict) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = num_cmp(t + mid, L);
        if (c < 0 || (c == 0 && !strict)) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static void form_value(program *p, int64_t f) {
    int64_t fresh = p->fresh || !p->reuse, dirty = fresh;
    for (int64_t t = p->form_start[f]; t < p->form_start[f + 1] && !dirty; t++)
        dirty = p->slot_changed[p->term_slot[t]];
    if (!dirty) { p->form_changed[f] = 0; return; }
    acc_zero(&p->acc);
    for (int64_t t = p->form_start[f]; t < p->form_start[f + 1]; t++) {
        const num *v = p->vals + p->term_slot[t];
        if (v->big || v->s) acc_addmul(&p->acc, p->consts + p->term_coef[t], v, p->tmp);
    }
    num_normalize(&p->acc);
    p->recomputed++;
    p->form_changed[f] = fresh || !num_eq(&p->acc, p->L + f);
    if (p->form_changed[f]) num_move(p->L + f, &p->acc);
}

static void step_value(program *p, const int64_t *s) {
    int64_t slot = s[1], act = s[2], form = s[3], fresh = p->fresh || !p->reuse;
    if (!fresh && !p->form_changed[form]) { p->slot_changed[slot] = 0; return; }
    const num *L = p->L + form, *c = p->consts;
    num *z = &p->z;
    acc_zero(z);
    acc_add(z, c + s[5]);
    if (s[0] == NODE) {
        acc_addmul(z, c + s[4], L, p->tmp);
    } else {
        int64_t k = count_below(c + s[7], s[6], L, 0);
        int64_t j = count_below(c + s[11], s[10], L, 1);
        num *slope = &p->acc;
        acc_zero(slope);
        acc_add(slope, c + s[8] + k);
        acc_add(slope, c + s[8] + s[6] + 1 + j);
        num_normalize(slope);
        acc_add(z, c + s[9] + k);
        acc_add(z, c + s[9] + s[6] + 1 + j);
        acc_addmul(z, slope, L, p->tmp);
    }
    num_normalize(z);
    /* The activations, as activations.py defines them: relu(z) = z > 0 ? z : 0, threshold(z) = [z >= 0]. */
    if (act == RELU && num_sgn(z) < 0) acc_zero(z);
    else if (act == THRESHOLD) { int64_t one = num_sgn(z) >= 0; acc_zero(z); z->s = one; }
    p->slot_changed[slot] = fresh || !num_eq(z, p->vals + slot);
    if (p->slot_changed[slot]) num_move(p->vals + slot, z);
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

/* Reuse pays when consecutive points share work (vardi2022 in the sweep order); where nearly
 * every form changes (park2021: d = 10, no shared blocks) its checks are pure cost. After
 * REUSE_PROBE points, reuse is switched off for the program's life if they recomputed more than
 * 7/8 of the forms. The values are the same either way. */
enum { REUSE_PROBE = 32 };

static void run_point(program *p, int64_t i) {
    for (int64_t s = 0; s < p->n_steps; s++) {
        for (int64_t b = p->before_start[s]; b < p->before_start[s + 1]; b++) form_value(p, p->before_form[b]);
        step_value(p, p->steps + s * STEP_FIELDS);
    }
    for (int64_t o = 0; o < p->n_outputs; o++) {  /* point i's outputs: outs[i * n_outputs + o] */
        const num *out = p->vals + p->output_slots[o];
        mpz_ptr to = p->outs[i * p->n_outputs + o];
        if (out->big) mpz_set(to, out->z); else mpz_set_si(to, out->s);
    }
    if (p->fresh) p->recomputed = 0;  /* the first point computes everything: not a sample */
    else if (p->reuse && ++p->probed == REUSE_PROBE)
        p->reuse = 8 * p->recomputed <= 7 * REUSE_PROBE * p->n_forms;
    p->fresh = 0;
}

static void set_input(program *p, int64_t k, const num *x) {
    int64_t slot = p->input_slots[k];
    num *v = p->vals + slot;
    p->slot_changed[slot] = p->fresh || !num_eq(x, v);
    if (p->slot_changed[slot]) {
        if (x->big) num_set_mpz(v, x->z); else { v->s = x->s; v->big = 0; }
    }
}

/* Points given as int64 numerators, row-major (n x inputs). Returns 0, or -1 out of memory. */
int nc_run_i64(program *p, int64_t n, const int64_t *X) {
    if (!reserve(p, n * p->n_outputs)) return -1;
    num x = {0};
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < p->n_inputs; k++) {
            x.s = X[i * p->n_inputs + k];
            set_input(p, k, &x);
        }
        run_point(p, i);
    }
    return 0;
}

/* Points given as constants are (lengths with signs, big-endian magnitudes), n x inputs of them. */
int nc_run_bytes(program *p, int64_t n, const int64_t *lengths, const unsigned char *bytes) {
    if (!reserve(p, n * p->n_outputs)) return -1;
    num x;
    num_init(&x);
    const unsigned char *at = bytes;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < p->n_inputs; k++) {
            int64_t len = lengths[i * p->n_inputs + k], m = len < 0 ? -len : len;
            mpz_import(p->tmp, (size_t)m, 1, 1, 1, 0, at);
            if (len < 0) mpz_neg(p->tmp, p->tmp);
            at += m;
            num_set_mpz(&x, p->tmp);
            set_input(p, k, &x);
        }
        run_point(p, i);
    }
    mpz_clear(x.z);
    return 0;
}

/* 1 while the kernel reuses work across points (see run_point), else 0. */
int64_t nc_reuses(program *p) { return p->reuse; }

/* Bytes of |exported value i| (0 for zero), negative for a negative value; value i is output i % n_outputs of point i / n_outputs. */
int64_t nc_output_size(program *p, int64_t i) {
    int64_t n = mpz_sgn(p->outs[i]) ? (int64_t)((mpz_sizeinbase(p->outs[i], 2) + 7) / 8) : 0;
    return mpz_sgn(p->outs[i]) < 0 ? -n : n;
}

/* The exported values 0..n-1 (n = points x outputs) as (sizes, big-endian magnitudes back to back). */
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
