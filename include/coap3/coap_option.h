/*
 * coap_option.h -- reading, writing and filtering CoAP options.
 *
 * An option on the wire (RFC 7252 section 3.1) is a one-byte header holding
 * a 4-bit delta (this option's number minus the previous one's) and a 4-bit
 * value length, each followed by 0-2 extension bytes, then the value. A
 * coap_opt_t pointer points at that header byte inside a PDU's buffer.
 */
#ifndef COAP_OPTION_H_
#define COAP_OPTION_H_

#include <stddef.h>
#include <stdint.h>

#include "coap3/libcoap.h"
#include "coap3/coap_forward_decls.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An option number (RFC 7252 section 5.4), 0..65535. */
typedef uint16_t coap_option_num_t;

/** One byte of an encoded option; options are accessed bytewise. */
typedef uint8_t coap_opt_t;
#define PCHAR(p) ((coap_opt_t *)(p))

/** A decoded option header: its delta, value length and value. */
typedef struct {
  uint16_t delta;       /**< number relative to the previous option */
  size_t length;        /**< value length in bytes */
  const uint8_t *value; /**< the value, inside the parsed buffer (borrowed) */
} coap_option_t;

/**
 * Decodes the option starting at @p opt, reading at most @p length bytes.
 * Fills @p result (its value points into @p opt) and returns the option's
 * whole size (header plus value), or 0 when the bytes are not a valid option:
 * the payload marker 0xFF, a reserved nibble 15, or an option running past
 * @p length.
 */
COAP_API size_t coap_opt_parse(const coap_opt_t *opt, size_t length,
                               coap_option_t *result);

/**
 * The whole size of the option at @p opt (header plus value), or 0 if it is
 * not valid. Trusts @p opt to be complete (no length bound): use only on
 * options inside a PDU that was built or parsed by this library.
 */
COAP_API size_t coap_opt_size(const coap_opt_t *opt);

/** How many option numbers below 256 a coap_opt_filter_t holds. */
#define COAP_OPT_FILTER_SHORT 6
/** How many option numbers of 256 and above a coap_opt_filter_t holds. */
#define COAP_OPT_FILTER_LONG 2

/**
 * A small set of option numbers. Bit i of mask (i < COAP_OPT_FILTER_LONG)
 * says long_opts[i] is in use; bit COAP_OPT_FILTER_LONG + j says the same of
 * short_opts[j]. Clear with coap_option_filter_clear() before use.
 */
typedef struct coap_opt_filter_t {
  uint16_t mask;
  uint16_t long_opts[COAP_OPT_FILTER_LONG];
  uint8_t short_opts[COAP_OPT_FILTER_SHORT];
} coap_opt_filter_t;

/** The "no filter" filter: every option passes. */
#define COAP_OPT_ALL NULL

/** Empties @p filter. */
COAP_API void coap_option_filter_clear(coap_opt_filter_t *filter);

/**
 * Adds @p number to @p filter. Returns 1 if it is now in the filter
 * (including when it already was), 0 if the filter has no free slot of the
 * needed kind (short or long).
 */
COAP_API int coap_option_filter_set(coap_opt_filter_t *filter,
                                    coap_option_num_t number);

/** Removes @p number from @p filter: 1 if it was there, else 0. */
COAP_API int coap_option_filter_unset(coap_opt_filter_t *filter,
                                      coap_option_num_t number);

/** 1 if @p number is in @p filter, else 0. */
COAP_API int coap_option_filter_get(coap_opt_filter_t *filter,
                                    coap_option_num_t number);

/**
 * Walks the options of a PDU in wire order:
 * @code
 * coap_opt_iterator_t it;
 * coap_opt_t *opt;
 * coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
 * while ((opt = coap_option_next(&it)))
 *   use(it.number, coap_opt_length(opt), coap_opt_value(opt));
 * @endcode
 * The iterator borrows the PDU: do not change the PDU while walking it.
 */
typedef struct {
  size_t length;               /**< bytes left from next_option */
  coap_option_num_t number;    /**< number of the option last returned */
  unsigned int bad : 1;        /**< set when done or on a malformed option */
  unsigned int filtered : 1;   /**< set when filter is in use */
  coap_opt_t *next_option;     /**< where the next option starts */
  coap_opt_filter_t filter;    /**< copy of the filter, when filtered */
} coap_opt_iterator_t;

/**
 * Sets @p oi up to walk @p pdu's options, returning only those in @p filter
 * (copied; COAP_OPT_ALL for all). Returns @p oi, or NULL when the PDU has
 * nothing after its token (then coap_option_next() returns NULL at once).
 */
COAP_API coap_opt_iterator_t *
coap_option_iterator_init(const coap_pdu_t *pdu, coap_opt_iterator_t *oi,
                          const coap_opt_filter_t *filter);

/**
 * Returns the next option passing the filter and sets oi->number to its
 * number, or returns NULL at the end of the options (payload marker or end
 * of PDU) or on a malformed option. The result points into the PDU.
 */
COAP_API coap_opt_t *coap_option_next(coap_opt_iterator_t *oi);

/**
 * Finds the first option numbered @p number in @p pdu, using @p oi (set up
 * by this call) so that coap_option_next(oi) returns any repeats. Returns the
 * option, or NULL if there is none.
 */
COAP_API coap_opt_t *coap_check_option(const coap_pdu_t *pdu,
                                       coap_option_num_t number,
                                       coap_opt_iterator_t *oi);

/**
 * Writes the header of an option with @p delta and value @p length into
 * @p opt (room for @p maxlen bytes). Returns the header size (1-5 bytes), or
 * 0 if it does not fit.
 */
COAP_API size_t coap_opt_setheader(coap_opt_t *opt, size_t maxlen,
                                   uint16_t delta, size_t length);

/** Bytes needed for an option with @p delta and a @p length-byte value. */
COAP_API size_t coap_opt_encode_size(uint16_t delta, size_t length);

/**
 * Writes a whole option (header and a copy of the @p length bytes at @p val)
 * into @p opt, which has room for @p n bytes. Returns the bytes written, or
 * 0 if they do not fit.
 */
COAP_API size_t coap_opt_encode(coap_opt_t *opt, size_t n, uint16_t delta,
                                const uint8_t *val, size_t length);

/**
 * The value length of the option at @p opt, 0 when it is not a valid option
 * (or has an empty value). Trusts @p opt to be complete, as coap_opt_size().
 */
COAP_API uint32_t coap_opt_length(const coap_opt_t *opt);

/**
 * Where the value of the option at @p opt starts, or NULL when it is not a
 * valid option. Trusts @p opt to be complete, as coap_opt_size().
 */
COAP_API const uint8_t *coap_opt_value(const coap_opt_t *opt);

/**
 * A chain of options to add to a PDU, in any order: coap_add_optlist_pdu()
 * sorts them by number first.
 * @code
 * coap_optlist_t *chain = NULL;
 * coap_insert_optlist(&chain, coap_new_optlist(COAP_OPTION_URI_PATH, 4,
 *                                              (const uint8_t *)"test"));
 * coap_add_optlist_pdu(pdu, &chain);
 * coap_delete_optlist(chain);
 * @endcode
 */
typedef struct coap_optlist_t {
  struct coap_optlist_t *next; /**< next entry in the chain */
  uint16_t number;             /**< option number (absolute, not a delta) */
  size_t length;               /**< value length */
  uint8_t *data;               /**< value bytes (owned by the entry) */
} coap_optlist_t;

/**
 * Allocates a chain entry holding option @p number with a copy of the
 * @p length bytes at @p data (borrowed). Returns NULL when out of memory.
 * Store integers with coap_encode_var_safe() so they carry no leading zeros.
 */
COAP_API coap_optlist_t *coap_new_optlist(uint16_t number, size_t length,
                                          const uint8_t *data);

/**
 * Adds every entry of *@p optlist_chain to @p pdu in ascending option order
 * (the chain is sorted in place; entries stay owned by the caller). Returns
 * 1 on success, 0 if an option could not be added (for instance the PDU is
 * full or already has a payload).
 */
COAP_API int coap_add_optlist_pdu(coap_pdu_t *pdu,
                                  coap_optlist_t **optlist_chain);

/**
 * Links @p optlist (ownership transferred to the chain) into
 * *@p optlist_chain, which starts as NULL, keeping the chain sorted by
 * number (after any entries with the same number). Returns 1, or 0 when
 * @p optlist or @p optlist_chain is NULL.
 */
COAP_API int coap_insert_optlist(coap_optlist_t **optlist_chain,
                                 coap_optlist_t *optlist);

/** Frees every entry of @p optlist_chain. NULL is ignored. */
COAP_API void coap_delete_optlist(coap_optlist_t *optlist_chain);

/** @deprecated Use coap_option_filter_set(). Returns 1, or -1 when full. */
COAP_STATIC_INLINE COAP_DEPRECATED int
coap_option_setb(coap_opt_filter_t *filter, uint16_t type) {
  return coap_option_filter_set(filter, type) ? 1 : -1;
}

/** @deprecated Use coap_option_filter_unset(). Returns 1, or -1 if unset. */
COAP_STATIC_INLINE COAP_DEPRECATED int
coap_option_clrb(coap_opt_filter_t *filter, uint16_t type) {
  return coap_option_filter_unset(filter, type) ? 1 : -1;
}

/** @deprecated Use coap_option_filter_get(). */
COAP_STATIC_INLINE COAP_DEPRECATED int
coap_option_getb(coap_opt_filter_t *filter, uint16_t type) {
  return coap_option_filter_get(filter, type);
}

#ifdef __cplusplus
}
#endif

#endif /* COAP_OPTION_H_ */
