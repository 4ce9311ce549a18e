;; Kernels over float32 arrays in tfjs-backend-wasm's heap (imported memory).
;;
;; adamw: one fused AdamW update in tfjs-backend-wasm's heap (imported memory): reads param, grad and
;; both moments once, writes the new param and moments to fresh outputs. The arithmetic is the op form's in
;; src/train/optimizer.ts, operation for operation in float32, so results are bit-identical:
;;   m' = m*beta1 + g*(1-beta1);  v' = v*beta2 + (g*g)*(1-beta2)
;;   p' = p*shrink - (m' / (sqrt(v')/bc2Sqrt + eps)) * stepSize
;; Four lanes at a time (SIMD), then the remaining elements one by one.
;;
;; sumsq: the sum of squares of n floats, accumulated in float64 (each square is exact in float64), for the
;; gradients' global norm in one pass.
;;
;; transpose: one [rows, cols] matrix of 32-bit elements to [cols, rows], 4 x 4 blocks by SIMD shuffles, taken in
;; bands of 16 rows so each output row gets 64 contiguous bytes per visit; the last rows % 4 rows and cols % 4
;; columns one element at a time.
;; Build: node --import tsx scripts/build-wasm.ts (writes the bytes into src/core/wasm-adamw-bytes.ts).
(module
  (import "env" "memory" (memory 0))
  (func (export "adamw")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32)
    (param $po i32) (param $mo i32) (param $vo i32) (param $n i32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32)
    (param $bc f32) (param $eps f32) (param $ss f32) (param $sh f32) (param $k f32)
    (local $i i32) (local $end i32) (local $o i32)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128)
    (local $BC v128) (local $EPS v128) (local $SS v128) (local $SH v128) (local $K v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $BC (f32x4.splat (local.get $bc)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $SS (f32x4.splat (local.get $ss)))
    (local.set $SH (f32x4.splat (local.get $sh)))
    (local.set $K (f32x4.splat (local.get $k)))
    (local.set $end (i32.and (local.get $n) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gv (f32x4.mul (v128.load align=4 (i32.add (local.get $g) (local.get $o))) (local.get $K)))
        (local.set $mv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $o))) (local.get $B1))
            (f32x4.mul (local.get $gv) (local.get $C1))))
        (local.set $vv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $o))) (local.get $B2))
            (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $C2))))
        (v128.store align=4 (i32.add (local.get $po) (local.get $o))
          (f32x4.sub
            (f32x4.mul (v128.load align=4 (i32.add (local.get $p) (local.get $o))) (local.get $SH))
            (f32x4.mul
              (f32x4.div (local.get $mv)
                (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vv)) (local.get $BC)) (local.get $EPS)))
              (local.get $SS))))
        (v128.store align=4 (i32.add (local.get $mo) (local.get $o)) (local.get $mv))
        (v128.store align=4 (i32.add (local.get $vo) (local.get $o)) (local.get $vv))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $simd)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.mul (f32.load (i32.add (local.get $g) (local.get $o))) (local.get $k)))
        (local.set $ms
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $m) (local.get $o))) (local.get $b1))
            (f32.mul (local.get $gs) (local.get $c1))))
        (local.set $vs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $o))) (local.get $b2))
            (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $c2))))
        (f32.store (i32.add (local.get $po) (local.get $o))
          (f32.sub
            (f32.mul (f32.load (i32.add (local.get $p) (local.get $o))) (local.get $sh))
            (f32.mul
              (f32.div (local.get $ms)
                (f32.add (f32.div (f32.sqrt (local.get $vs)) (local.get $bc)) (local.get $eps)))
              (local.get $ss))))
        (f32.store (i32.add (local.get $mo) (local.get $o)) (local.get $ms))
        (f32.store (i32.add (local.get $vo) (local.get $o)) (local.get $vs))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))
  (func (export "sumsq") (param $p i32) (param $n i32) (result f64)
    (local $i i32) (local $end i32) (local $x v128) (local $a v128) (local $b v128) (local $s f64) (local $f f64)
    (local.set $end (i32.and (local.get $n) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x (v128.load align=4 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $a (f64x2.add (local.get $a)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $x)))))
        (local.set $x (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
        (local.set $b (f64x2.add (local.get $b)
          (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $x)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $simd)))
    (local.set $s
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a)))
        (f64.add (f64x2.extract_lane 0 (local.get $b)) (f64x2.extract_lane 1 (local.get $b)))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $f (f64.promote_f32 (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $f) (local.get $f))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $s))
  (func (export "transpose") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $r4 i32) (local $c4 i32) (local $i0 i32) (local $iend i32) (local $i i32) (local $j i32)
    (local $a i32) (local $b i32) (local $rb i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $r4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $rb (i32.shl (local.get $rows) (i32.const 2)))
    ;; 4 x 4 blocks of rows [0, r4) x cols [0, c4).
    (block $bands_done
      (loop $bands
        (br_if $bands_done (i32.ge_u (local.get $i0) (local.get $r4)))
        (local.set $iend (i32.add (local.get $i0) (i32.const 16)))
        (if (i32.gt_u (local.get $iend) (local.get $r4)) (then (local.set $iend (local.get $r4))))
        (local.set $j (i32.const 0))
        (block $cols_done
          (loop $cols_loop
            (br_if $cols_done (i32.ge_u (local.get $j) (local.get $c4)))
            (local.set $i (local.get $i0))
            (block $rows_done
              (loop $rows_loop
                (br_if $rows_done (i32.ge_u (local.get $i) (local.get $iend)))
                ;; $a: byte offset of src[i][j]; rows i..i+3 are cols*4 bytes apart.
                (local.set $a (i32.add (local.get $src)
                  (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2))))
                (local.set $x0 (v128.load align=4 (local.get $a)))
                (local.set $a (i32.add (local.get $a) (i32.shl (local.get $cols) (i32.const 2))))
                (local.set $x1 (v128.load align=4 (local.get $a)))
                (local.set $a (i32.add (local.get $a) (i32.shl (local.get $cols) (i32.const 2))))
                (local.set $x2 (v128.load align=4 (local.get $a)))
                (local.set $a (i32.add (local.get $a) (i32.shl (local.get $cols) (i32.const 2))))
                (local.set $x3 (v128.load align=4 (local.get $a)))
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x0) (local.get $x1)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x0) (local.get $x1)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x2) (local.get $x3)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x2) (local.get $x3)))
                ;; $b: byte offset of dst[j][i]; output rows j..j+3 are rows*4 bytes apart.
                (local.set $b (i32.add (local.get $dst)
                  (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i)) (i32.const 2))))
                (v128.store align=4 (local.get $b)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (local.set $b (i32.add (local.get $b) (local.get $rb)))
                (v128.store align=4 (local.get $b)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (local.set $b (i32.add (local.get $b) (local.get $rb)))
                (v128.store align=4 (local.get $b)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (local.set $b (i32.add (local.get $b) (local.get $rb)))
                (v128.store align=4 (local.get $b)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $rows_loop)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cols_loop)))
        (local.set $i0 (local.get $iend))
        (br $bands)))
    ;; Columns [c4, cols) of rows [0, r4), then every column of rows [r4, rows).
    (local.set $i (i32.const 0))
    (block $right_done
      (loop $right
        (br_if $right_done (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $j (if (result i32) (i32.lt_u (local.get $i) (local.get $r4)) (then (local.get $c4)) (else (i32.const 0))))
        (block $row_done
          (loop $row
            (br_if $row_done (i32.ge_u (local.get $j) (local.get $cols)))
            (i32.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i)) (i32.const 2)))
              (i32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $row)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $right))))
  ;; matmul: C [m, p] = A [m, k] @ B [k, p], row-major float32. 4 x 8 blocks of C in eight SIMD accumulators
  ;; (per k: two vectors of B's row, A's four values each splat), then the last m % 4 rows 1 x 8, a 4-column
  ;; panel 1 x 4, and the last p % 4 columns one element at a time. Every element sums its k products in order,
  ;; acc = acc + a*b from +0 (no fused multiply-add), which is what XNNPACK's f32 GEMM does: the result is
  ;; bit-identical to tfjs-backend-wasm's 2-D matmul.
  (func (export "matmul") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $p i32)
    (local $i i32) (local $j i32) (local $kk i32) (local $ka i32) (local $pb i32) (local $m4 i32)
    (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32) (local $pbk i32) (local $pc i32)
    (local $vb0 v128) (local $vb1 v128) (local $va v128) (local $s f32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $ka (i32.shl (local.get $k) (i32.const 2)))
    (local.set $pb (i32.shl (local.get $p) (i32.const 2)))
    (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
    ;; Panels of 8 columns.
    (block $p8_done
      (loop $p8
        (br_if $p8_done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $p)))
        (local.set $i (i32.const 0))
        (block $r4_done
          (loop $r4
            (br_if $r4_done (i32.ge_u (local.get $i) (local.get $m4)))
            (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $ka))))
            (local.set $pa1 (i32.add (local.get $pa0) (local.get $ka)))
            (local.set $pa2 (i32.add (local.get $pa1) (local.get $ka)))
            (local.set $pa3 (i32.add (local.get $pa2) (local.get $ka)))
            (local.set $pbk (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $c00 (v128.const f32x4 0 0 0 0))
            (local.set $c01 (v128.const f32x4 0 0 0 0))
            (local.set $c10 (v128.const f32x4 0 0 0 0))
            (local.set $c11 (v128.const f32x4 0 0 0 0))
            (local.set $c20 (v128.const f32x4 0 0 0 0))
            (local.set $c21 (v128.const f32x4 0 0 0 0))
            (local.set $c30 (v128.const f32x4 0 0 0 0))
            (local.set $c31 (v128.const f32x4 0 0 0 0))
            (local.set $kk (i32.const 0))
            (block $k4_done
              (loop $k4
                (br_if $k4_done (i32.ge_u (local.get $kk) (local.get $k)))
                (local.set $vb0 (v128.load align=4 (local.get $pbk)))
                (local.set $vb1 (v128.load offset=16 align=4 (local.get $pbk)))
                (local.set $va (v128.load32_splat align=4 (local.get $pa0)))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $va) (local.get $vb0))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $va) (local.get $vb1))))
                (local.set $va (v128.load32_splat align=4 (local.get $pa1)))
                (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $va) (local.get $vb0))))
                (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $va) (local.get $vb1))))
                (local.set $va (v128.load32_splat align=4 (local.get $pa2)))
                (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $va) (local.get $vb0))))
                (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $va) (local.get $vb1))))
                (local.set $va (v128.load32_splat align=4 (local.get $pa3)))
                (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $va) (local.get $vb0))))
                (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $va) (local.get $vb1))))
                (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
                (local.set $pa1 (i32.add (local.get $pa1) (i32.const 4)))
                (local.set $pa2 (i32.add (local.get $pa2) (i32.const 4)))
                (local.set $pa3 (i32.add (local.get $pa3) (i32.const 4)))
                (local.set $pbk (i32.add (local.get $pbk) (local.get $pb)))
                (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                (br $k4)))
            (local.set $pc (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $p)) (local.get $j)) (i32.const 2))))
            (v128.store align=4 (local.get $pc) (local.get $c00))
            (v128.store offset=16 align=4 (local.get $pc) (local.get $c01))
            (local.set $pc (i32.add (local.get $pc) (local.get $pb)))
            (v128.store align=4 (local.get $pc) (local.get $c10))
            (v128.store offset=16 align=4 (local.get $pc) (local.get $c11))
            (local.set $pc (i32.add (local.get $pc) (local.get $pb)))
            (v128.store align=4 (local.get $pc) (local.get $c20))
            (v128.store offset=16 align=4 (local.get $pc) (local.get $c21))
            (local.set $pc (i32.add (local.get $pc) (local.get $pb)))
            (v128.store align=4 (local.get $pc) (local.get $c30))
            (v128.store offset=16 align=4 (local.get $pc) (local.get $c31))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $r4)))
        ;; The last m % 4 rows of the panel, one at a time.
        (block $r1_done
          (loop $r1
            (br_if $r1_done (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $ka))))
            (local.set $pbk (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $c00 (v128.const f32x4 0 0 0 0))
            (local.set $c01 (v128.const f32x4 0 0 0 0))
            (local.set $kk (i32.const 0))
            (block $k1_done
              (loop $k1
                (br_if $k1_done (i32.ge_u (local.get $kk) (local.get $k)))
                (local.set $va (v128.load32_splat align=4 (local.get $pa0)))
                (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $va) (v128.load align=4 (local.get $pbk)))))
                (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $va) (v128.load offset=16 align=4 (local.get $pbk)))))
                (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
                (local.set $pbk (i32.add (local.get $pbk) (local.get $pb)))
                (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                (br $k1)))
            (local.set $pc (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $p)) (local.get $j)) (i32.const 2))))
            (v128.store align=4 (local.get $pc) (local.get $c00))
            (v128.store offset=16 align=4 (local.get $pc) (local.get $c01))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $r1)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $p8)))
    ;; One panel of 4 columns, a row at a time.
    (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $p))
      (then
        (local.set $i (i32.const 0))
        (block $q_done
          (loop $q
            (br_if $q_done (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $ka))))
            (local.set $pbk (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $c00 (v128.const f32x4 0 0 0 0))
            (local.set $kk (i32.const 0))
            (block $kq_done
              (loop $kq
                (br_if $kq_done (i32.ge_u (local.get $kk) (local.get $k)))
                (local.set $c00 (f32x4.add (local.get $c00)
                  (f32x4.mul (v128.load32_splat align=4 (local.get $pa0)) (v128.load align=4 (local.get $pbk)))))
                (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
                (local.set $pbk (i32.add (local.get $pbk) (local.get $pb)))
                (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                (br $kq)))
            (v128.store align=4 (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $p)) (local.get $j)) (i32.const 2))) (local.get $c00))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $q)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))))
    ;; The last p % 4 columns, one element at a time.
    (block $s_done
      (loop $sj
        (br_if $s_done (i32.ge_u (local.get $j) (local.get $p)))
        (local.set $i (i32.const 0))
        (block $si_done
          (loop $si
            (br_if $si_done (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $ka))))
            (local.set $pbk (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $s (f32.const 0))
            (local.set $kk (i32.const 0))
            (block $sk_done
              (loop $sk
                (br_if $sk_done (i32.ge_u (local.get $kk) (local.get $k)))
                (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $pa0)) (f32.load (local.get $pbk)))))
                (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
                (local.set $pbk (i32.add (local.get $pbk) (local.get $pb)))
                (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                (br $sk)))
            (f32.store (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $p)) (local.get $j)) (i32.const 2))) (local.get $s))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $si)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $sj))))
)
