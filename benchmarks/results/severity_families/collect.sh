set -e
cd /work/main; source .venv/bin/activate
M=python\ -m\ artrestore.training.severity_fit
T="--train .devdata/extra_0 --train .devdata/extra_1"
V="--train .devdata/clean_val --train .devdata/pack3/val_extra --train .devdata/pack4/val_extra"
$M collect $T --out work/sev7/rows_A.npz
$M collect $T --family mix --seed0 8000000 --out work/sev7/rows_mix.npz
$M collect $V --family broad --seed0 9000000 --out work/sev7/val_broad.npz
$M collect $V --family proxy --seed0 9000000 --out work/sev7/val_proxy.npz
echo DONE
