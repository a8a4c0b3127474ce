#!/bin/sh
# bench/gender.sh — gender: every pretrained model and both trained
# architectures on ../shared/faces/gender.csv (k-fold by person), with
# times. Writes the figures README "Gender" quotes.
#
#   bench/gender.sh [SHARED_DIR]      (run from the repository root, after make)
set -e
shared=${1:-../shared}
out=${OUT:-build/bench/gender}
mkdir -p "$out"
cli=build/pasalista
labels="$shared/faces/gender.csv"
echo "== CPU: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "== pretrained models (faces detected once)"
/usr/bin/time -f "   %e s wall, %U s user" $cli gender eval "$shared/faces" --labels "$labels" --threads 2
echo "== small-cnn epoch time (synthetic inputs, single thread)"
build/bench/bench_gender 3
for arch in head small-cnn; do
  echo "== $arch, 5-fold by person, seed 1"
  /usr/bin/time -f "   %e s wall, %U s user" $cli gender train "$shared/faces" --labels "$labels" \
      --arch $arch --seed 1 --threads 2 --out "$out/$arch.plg" 2> "$out/$arch.log"
  grep -c epoch "$out/$arch.log" | sed 's/^/   epochs run (all folds + final): /'
done
echo "== small-cnn, 20 epochs, no folds, no early stopping (the training-speed figure)"
/usr/bin/time -f "   %e s wall, %U s user" $cli gender train "$shared/faces" --labels "$labels" \
    --arch small-cnn --folds 0 --patience 0 --epochs 20 --out "$out/cnn20.plg" 2> "$out/cnn20.log"
echo "== the trained models through gender eval (on the photos they saw: not a test)"
$cli gender eval "$shared/faces" --labels "$labels" --model "$out/head.plg" --model "$out/small-cnn.plg"
