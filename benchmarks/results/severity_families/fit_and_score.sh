set -e
cd /work/main; source .venv/bin/activate
M="python -m artrestore.training.severity_fit"
D=python/artrestore/models/decision
$M fit --rows work/sev7/rows_A.npz --decision $D --out work/sev7/decision_A
$M fit --rows work/sev7/rows_A.npz work/sev7/rows_mix.npz --decision $D --out work/sev7/decision_B
for d in bundled A B; do
  dir=work/sev7/decision_$d; [ $d = bundled ] && dir=$D
  $M score --rows work/sev7/val_broad.npz work/sev7/val_proxy.npz --decision $dir --out work/sev7/score_$d.json
done
echo DONE
