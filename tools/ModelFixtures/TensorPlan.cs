namespace MlxManager.ModelFixtures;

/// <summary>One tensor of a safetensors file.</summary>
public sealed record TensorEntry(string Name, string Dtype, long[] Shape)
{
    public long Bytes => Shape.Aggregate(1L, (a, b) => a * b) * ElementSize(Dtype);

    public static int ElementSize(string dtype) => dtype switch
    {
        "U32" or "F32" or "I32" => 4,
        "BF16" or "F16" => 2,
        "U8" or "I8" => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };
}

/// <summary>The tensors of a model as mlx_lm.convert writes them (packed U32 weights with scales and biases
/// when quantized), with the layer count and vocabulary sized so the weights add up to the requested bytes.</summary>
public sealed record TensorPlan(int Layers, int VocabSize, IReadOnlyList<TensorEntry> Tensors)
{
    public long TotalBytes => Tensors.Sum(t => t.Bytes);

    const int MinVocab = 256;

    public static TensorPlan For(FixtureSpec spec)
    {
        var prefix = spec.Vision ? "language_model.model" : "model";
        var fixedTensors = FixedTensors(spec, prefix);
        long fixedBytes = fixedTensors.Sum(t => t.Bytes);
        long layerBytes = LayerTensors(spec, prefix, 0).Sum(t => t.Bytes);
        long rowBytes = EmbeddingRowBytes(spec) * (spec.TieWordEmbeddings ? 1 : 2);

        long budget = Math.Max(spec.WeightBytes - fixedBytes, layerBytes + rowBytes * MinVocab);
        int layers = (int)Math.Clamp((budget - (long)spec.VocabSize * rowBytes) / layerBytes, 1, 200);
        long vocab = (budget - layers * layerBytes) / rowBytes;
        while (vocab < MinVocab && layers > 1)
        {
            layers--;
            vocab = (budget - layers * layerBytes) / rowBytes;
        }
        vocab = Math.Max(vocab, MinVocab);

        var tensors = new List<TensorEntry>();
        tensors.AddRange(Linear(spec, $"{prefix}.embed_tokens", (int)vocab, spec.HiddenSize));
        for (int i = 0; i < layers; i++) tensors.AddRange(LayerTensors(spec, prefix, i));
        tensors.AddRange(fixedTensors);
        if (!spec.TieWordEmbeddings)
            tensors.AddRange(Linear(spec, spec.Vision ? "language_model.lm_head" : "lm_head", (int)vocab, spec.HiddenSize));
        return new TensorPlan(layers, (int)vocab, tensors);
    }

    static long EmbeddingRowBytes(FixtureSpec spec) =>
        Linear(spec, "row", 1, spec.HiddenSize).Sum(t => t.Bytes);

    static List<TensorEntry> FixedTensors(FixtureSpec spec, string prefix)
    {
        var list = new List<TensorEntry> { new($"{prefix}.norm.weight", StorageDtype(spec), [spec.HiddenSize]) };
        if (spec.Vision)
        {
            const int visionHidden = 128;
            list.Add(new("vision_tower.vision_model.embeddings.patch_embedding.weight", StorageDtype(spec), [visionHidden, 14, 14, 3]));
            for (int i = 0; i < 2; i++)
                foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
                    list.Add(new($"vision_tower.vision_model.encoder.layers.{i}.self_attn.{proj}.weight", StorageDtype(spec), [visionHidden, visionHidden]));
            list.Add(new("multi_modal_projector.mm_input_projection_weight", StorageDtype(spec), [visionHidden, spec.HiddenSize]));
        }
        return list;
    }

    static IEnumerable<TensorEntry> LayerTensors(FixtureSpec spec, string prefix, int i)
    {
        int headDim = spec.HeadDim ?? spec.HiddenSize / spec.AttentionHeads;
        string p = $"{prefix}.layers.{i}";
        return
        [
            .. Linear(spec, $"{p}.self_attn.q_proj", spec.AttentionHeads * headDim, spec.HiddenSize),
            .. Linear(spec, $"{p}.self_attn.k_proj", spec.KeyValueHeads * headDim, spec.HiddenSize),
            .. Linear(spec, $"{p}.self_attn.v_proj", spec.KeyValueHeads * headDim, spec.HiddenSize),
            .. Linear(spec, $"{p}.self_attn.o_proj", spec.HiddenSize, spec.AttentionHeads * headDim),
            .. Linear(spec, $"{p}.mlp.gate_proj", spec.IntermediateSize, spec.HiddenSize),
            .. Linear(spec, $"{p}.mlp.up_proj", spec.IntermediateSize, spec.HiddenSize),
            .. Linear(spec, $"{p}.mlp.down_proj", spec.HiddenSize, spec.IntermediateSize),
            new($"{p}.input_layernorm.weight", StorageDtype(spec), [spec.HiddenSize]),
            new($"{p}.post_attention_layernorm.weight", StorageDtype(spec), [spec.HiddenSize]),
        ];
    }

    static TensorEntry[] Linear(FixtureSpec spec, string name, int outFeatures, int inFeatures)
    {
        if (spec.Bits is not int bits)
            return [new($"{name}.weight", StorageDtype(spec), [outFeatures, inFeatures])];
        if (inFeatures % spec.GroupSize != 0 || inFeatures * bits % 32 != 0)
            throw new ArgumentException($"{name}: {inFeatures} input features do not split into groups of {spec.GroupSize} at {bits} bits");
        int groups = inFeatures / spec.GroupSize;
        return
        [
            new($"{name}.weight", "U32", [outFeatures, inFeatures * bits / 32]),
            new($"{name}.scales", StorageDtype(spec), [outFeatures, groups]),
            new($"{name}.biases", StorageDtype(spec), [outFeatures, groups]),
        ];
    }

    static string StorageDtype(FixtureSpec spec) => spec.Dtype == "float16" ? "F16" : "BF16";

    /// <summary>Splits the tensors into <paramref name="shards"/> files of roughly equal size, in order.</summary>
    public IReadOnlyList<IReadOnlyList<TensorEntry>> Shard(int shards)
    {
        shards = Math.Clamp(shards, 1, Tensors.Count);
        long target = (TotalBytes + shards - 1) / shards;
        var result = new List<IReadOnlyList<TensorEntry>>();
        var current = new List<TensorEntry>();
        long size = 0;
        for (int i = 0; i < Tensors.Count; i++)
        {
            current.Add(Tensors[i]);
            size += Tensors[i].Bytes;
            int remainingTensors = Tensors.Count - i - 1;
            int remainingShards = shards - result.Count - 1;
            if (remainingShards > 0 && (size >= target || remainingTensors == remainingShards))
            {
                result.Add(current);
                current = [];
                size = 0;
            }
        }
        result.Add(current);
        return result;
    }
}
