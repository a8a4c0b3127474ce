/* augment.h — from a stored face crop to a training input, with random
 * changes that keep the label (data augmentation).
 *
 * A face is kept as a small RGB crop with more context than the network
 * sees; each time it is drawn for training it is resampled through one
 * random affine map (horizontal flip, scale, shift, small rotation) and
 * then its brightness and contrast are changed. Resampling once, through
 * one map, avoids blurring the face by repeated interpolation. Without
 * augmentation the same routine gives the plain centred input used for
 * validation and prediction.
 */
#ifndef PL_TRAIN_AUGMENT_H
#define PL_TRAIN_AUGMENT_H

#include "image/image.h"
#include "train/rng.h"

typedef struct tr_augment {
    int flip;             /* mirror left-right half of the time           */
    float scale;          /* zoom in [1-scale, 1+scale]                  */
    float shift;          /* translate up to this fraction of the side   */
    float rotate_deg;     /* rotate in [-rotate_deg, rotate_deg]          */
    float brightness;     /* add up to ± this (input units, ~[-1, 1])     */
    float contrast;       /* multiply by [1-contrast, 1+contrast]         */
} tr_augment;

void tr_augment_default(tr_augment *a);

/* Write a 3×size×size (RGB, channels first) input, values (v-127.5)/128,
 * taken from the centre `region` (fraction of its width) of src. aug NULL:
 * no change. */
void tr_make_input(const pl_image *src, float region, int size, const tr_augment *aug,
                   tr_rng *rng, float *out);

#endif
