# shaders.cmake: the SPIR-V variants built from this folder, as
# "variant-name|source.comp|glslc defines". Included by backends/vulkan/CMakeLists.txt;
# the variant names are the ones backends/vulkan/src/vk_kernels.def refers to.
# Variants differ by defines (16-bit storage, which needs a device feature, so it
# cannot be a specialization constant); everything else (dtypes, op, tile sizes) is
# a specialization constant chosen when the pipeline is created.
set(SSMRT_VK_SHADER_VARIANTS
  "fill_words|fill_words.comp"
  "copy|copy.comp"
  "copy_s16|copy.comp|-DSTORAGE16"
  "unary|unary.comp"
  "binary|binary.comp"
  "softmax|softmax.comp"
  "norm|norm.comp"
  "matmul|matmul.comp"
  "matmul_s16|matmul.comp|-DSTORAGE16"
  "matmul_coopmat_nv|matmul_coopmat_nv.comp"
  "matvec|matvec.comp"
  "matvec_s16|matvec.comp|-DSTORAGE16"
  "matvec_sg|matvec_sg.comp"
  "embedding|embedding.comp"
  "embedding_s16|embedding.comp|-DSTORAGE16"
  "topk_route|topk_route.comp"
  "selective_scan|selective_scan.comp"
  "selective_scan_sg|selective_scan.comp|-DSUBGROUP"
  "selective_scan_runs|selective_scan_runs.comp"
  "selective_scan_m1|selective_scan_m1.comp"
  "conv1d_causal|conv1d_causal.comp"
  "conv1d_state|conv1d_state.comp"
  "conv_long|conv_long.comp"
  "attention|attention.comp"
  "attention_s16|attention.comp|-DSTORAGE16"
  "attention_row|attention_row.comp"
  "attention_row_s16|attention_row.comp|-DSTORAGE16"
  "attention_combine|attention_combine.comp"
  "attention_combine_s16|attention_combine.comp|-DSTORAGE16"
)
