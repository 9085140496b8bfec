/* jieba's precise mode without HMM (`jieba.Tokenizer.lcut(text, HMM=False)`), in C.

   The same algorithm over the same dictionary object, so the words are identical:
   - the text is split into blocks as jieba's `re_han_default` ([\u4E00-\u9FD5a-zA-Z0-9+#&._%-]+)
     does; outside those blocks every character is a word, except "\r\n" which is one word
     (`re_skip_default` is "(\r\n|\s)" and the rest is yielded character by character);
   - in a block, the DAG holds every x where block[k:x+1] has a non-zero frequency in `FREQ`,
     extending while the fragment is a key of `FREQ` (jieba stores every word prefix, frequency 0);
   - route[k] = max over x of (log(FREQ[frag] or 1) - log(total) + route[x+1], x), evaluated in
     that order so the doubles are the same, ties going to the larger x as Python's tuple max does;
   - single ASCII letters or digits in a row are joined into one word (jieba's `buf`).

   The Python tokenizer stays the reference: tests/test_scaling.py compares the two. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

static int is_han_block_char(Py_UCS4 c) {
    return (c >= 0x4E00 && c <= 0x9FD5) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '#' || c == '&' || c == '.' || c == '_' ||
           c == '%' || c == '-';
}

static int is_eng(Py_UCS4 c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int append_sub(PyObject *out, PyObject *text, Py_ssize_t a, Py_ssize_t b) {
    PyObject *w = PyUnicode_Substring(text, a, b);
    if (w == NULL) return -1;
    int rc = PyList_Append(out, w);
    Py_DECREF(w);
    return rc;
}

/* Frequency of text[a:b] in FREQ: -1 when absent (so the DAG stops), else the value (>= 0). */
static long long freq_of(PyObject *freq, PyObject *text, Py_ssize_t a, Py_ssize_t b, int *error) {
    PyObject *frag = PyUnicode_Substring(text, a, b);
    if (frag == NULL) { *error = 1; return -1; }
    PyObject *v = PyDict_GetItemWithError(freq, frag);
    Py_DECREF(frag);
    if (v == NULL) {
        if (PyErr_Occurred()) *error = 1;
        return -1;
    }
    long long f = PyLong_AsLongLong(v);
    if (f == -1 && PyErr_Occurred()) { *error = 1; return -1; }
    return f;
}

/* Cut text[s:e] (one block) and append its words to out. */
static int cut_block(PyObject *text, Py_ssize_t s, Py_ssize_t e, PyObject *freq, double logtotal,
                     PyObject *out) {
    Py_ssize_t n = e - s;
    double *best = PyMem_Malloc(sizeof(double) * (n + 1));
    Py_ssize_t *next = PyMem_Malloc(sizeof(Py_ssize_t) * (n + 1));
    if (best == NULL || next == NULL) {
        PyMem_Free(best); PyMem_Free(next); PyErr_NoMemory(); return -1;
    }
    int error = 0;
    best[n] = 0.0;
    for (Py_ssize_t k = n - 1; k >= 0 && !error; k--) {
        double top = 0.0;
        Py_ssize_t top_x = -1;
        for (Py_ssize_t i = k; i < n; i++) {
            long long f = freq_of(freq, text, s + k, s + i + 1, &error);
            if (f < 0) break;
            if (f == 0) continue;
            double score = log((double)f) - logtotal + best[i + 1];
            if (top_x < 0 || score >= top) { top = score; top_x = i; }  /* ties: larger x */
        }
        if (error) break;
        if (top_x < 0) {  /* no word starts here: the character alone, frequency (FREQ.get or 1) */
            long long f = freq_of(freq, text, s + k, s + k + 1, &error);
            if (error) break;
            top = log((double)(f > 0 ? f : 1)) - logtotal + best[k + 1];
            top_x = k;
        }
        best[k] = top;
        next[k] = top_x;
    }
    Py_ssize_t x = 0, buf_start = -1;
    while (!error && x < n) {
        Py_ssize_t y = next[x] + 1;
        if (y - x == 1 && is_eng(PyUnicode_READ_CHAR(text, s + x))) {
            if (buf_start < 0) buf_start = x;
        } else {
            if (buf_start >= 0 && append_sub(out, text, s + buf_start, s + x) < 0) error = 1;
            buf_start = -1;
            if (!error && append_sub(out, text, s + x, s + y) < 0) error = 1;
        }
        x = y;
    }
    if (!error && buf_start >= 0 && append_sub(out, text, s + buf_start, s + n) < 0) error = 1;
    PyMem_Free(best);
    PyMem_Free(next);
    return error ? -1 : 0;
}

static PyObject *cut(PyObject *self, PyObject *args) {
    PyObject *text, *freq, *total_obj;
    if (!PyArg_ParseTuple(args, "UO!O", &text, &PyDict_Type, &freq, &total_obj)) return NULL;
    double total = PyFloat_AsDouble(total_obj);
    if (total == -1.0 && PyErr_Occurred()) return NULL;
    double logtotal = log(total);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    Py_ssize_t i = 0;
    while (i < n) {
        Py_UCS4 c = PyUnicode_READ_CHAR(text, i);
        if (is_han_block_char(c)) {
            Py_ssize_t j = i + 1;
            while (j < n && is_han_block_char(PyUnicode_READ_CHAR(text, j))) j++;
            if (cut_block(text, i, j, freq, logtotal, out) < 0) { Py_DECREF(out); return NULL; }
            i = j;
        } else {
            Py_ssize_t j = (c == '\r' && i + 1 < n && PyUnicode_READ_CHAR(text, i + 1) == '\n') ? i + 2 : i + 1;
            if (append_sub(out, text, i, j) < 0) { Py_DECREF(out); return NULL; }
            i = j;
        }
    }
    return out;
}

static PyMethodDef methods[] = {
    {"cut", cut, METH_VARARGS,
     "cut(text, FREQ, total) -> list of words, as jieba.Tokenizer.lcut(text, HMM=False)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jiebacut", NULL, -1, methods};

PyMODINIT_FUNC PyInit__jiebacut(void) { return PyModule_Create(&module); }
