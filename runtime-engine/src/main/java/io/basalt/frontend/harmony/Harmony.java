package io.basalt.frontend.harmony;

import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;

import java.util.ArrayList;
import java.util.List;

/**
 * The harmony chat format of gpt-oss (openai/harmony): renders a conversation into prompt ids that end
 * with {@code <|start|>assistant}, and parses the completion back into messages.
 *
 * <p>Rendering follows harmony's renderer: formatting tokens are emitted as ids and every text piece
 * (role, channel, content…) is encoded separately as ordinary text, so message content that happens
 * to contain "&lt;|end|&gt;" cannot inject a special token.
 */
public final class Harmony {
    private final Tokenizer tokenizer;
    final int start, end, message, channel, constrain, returnId, call;
    /** Ids from here up are special tokens (o200k_harmony: 199998 &lt;|startoftext|&gt; and above), never text. */
    final int firstSpecial;

    public Harmony(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.start = special("<|start|>");
        this.end = special("<|end|>");
        this.message = special("<|message|>");
        this.channel = special("<|channel|>");
        this.constrain = special("<|constrain|>");
        this.returnId = special("<|return|>");
        this.call = special("<|call|>");
        int lowest = Math.min(Math.min(Math.min(start, end), Math.min(message, channel)),
                Math.min(Math.min(constrain, returnId), call));
        // BOS/EOS lower the bound only when they are control tokens: a model that declares an ordinary id as EOS
        // (random-weight fixtures declare 2) must not turn its text into specials
        if (tokenizer.bosId() >= 0 && isControl(tokenizer, tokenizer.bosId())) lowest = Math.min(lowest, tokenizer.bosId());
        for (int eos : tokenizer.eosIds()) if (isControl(tokenizer, eos)) lowest = Math.min(lowest, eos);
        this.firstSpecial = lowest;
    }

    private static boolean isControl(Tokenizer tokenizer, int id) {
        return id >= 0 && id < tokenizer.vocabSize() && tokenizer.decode(new int[] {id}).startsWith("<|");
    }

    /** Harmony over gpt-oss's o200k_harmony tokenizer. */
    public static Harmony gptOss() { return Holder.GPT_OSS; }

    private static final class Holder {
        static final Harmony GPT_OSS = new Harmony(Tokenizers.o200kHarmony());
    }

    Tokenizer tokenizer() { return tokenizer; }

    private int special(String text) {
        int[] ids = tokenizer.encodeWithSpecials(text);
        if (ids.length != 1) throw new IllegalArgumentException("tokenizer has no single token for " + text);
        return ids[0];
    }

    /** Prompt ids for the assistant's next turn: the rendered conversation + {@code <|start|>assistant}. */
    public int[] render(HarmonyConversation conversation) {
        Ids out = new Ids();
        for (HarmonyMessage m : messagesToRender(conversation)) renderMessage(m, out);
        out.add(start);
        out.text("assistant");
        return out.toArray();
    }

    /** Completion ids (after a prompt ending with {@code <|start|>assistant}) → the messages they hold. */
    public List<HarmonyMessage> parse(int[] completionTokens) {
        return new HarmonyParser(this).parse(completionTokens, "assistant");
    }

    /**
     * System and developer messages first, then the turns. Like harmony's auto_drop_analysis: when the
     * last assistant message is a final answer, analysis messages before the first final answer are
     * dropped (gpt-oss is trained not to see earlier turns' reasoning).
     */
    private static List<HarmonyMessage> messagesToRender(HarmonyConversation c) {
        List<HarmonyMessage> all = new ArrayList<>();
        if (c.system() != null) all.add(new HarmonyMessage("system", null, c.system().render(!c.functions().isEmpty())));
        String developer = c.developerText();
        if (developer != null) all.add(new HarmonyMessage("developer", null, developer));
        all.addAll(c.messages());
        HarmonyMessage lastAssistant = null;
        for (HarmonyMessage m : all) if (m.role().equals("assistant")) lastAssistant = m;
        int firstFinal = -1;
        for (int i = 0; i < all.size() && firstFinal < 0; i++) if ("final".equals(all.get(i).channel())) firstFinal = i;
        if (lastAssistant == null || !"final".equals(lastAssistant.channel())) return all;
        List<HarmonyMessage> kept = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            if (!(i < firstFinal && "analysis".equals(all.get(i).channel()))) kept.add(all.get(i));
        }
        return kept;
    }

    private void renderMessage(HarmonyMessage m, Ids out) {
        out.add(start);
        out.text(m.role());
        boolean addressed = m.recipient() != null && !m.recipient().equals("all");
        if (addressed && !m.recipientAfterChannel()) out.text(" to=" + m.recipient());
        if (m.channel() != null) {
            out.add(channel);
            out.text(m.channel());
        }
        if (addressed && m.recipientAfterChannel()) out.text(" to=" + m.recipient());
        if (m.contentType() != null) {
            String type = m.contentType();
            if (type.startsWith("<|constrain|>")) {   // the marker is a special token, the rest is text
                out.text(" ");
                out.add(constrain);
                out.text(type.substring("<|constrain|>".length()));
            } else {
                out.text(" " + type);
            }
        }
        out.add(message);
        out.text(m.content());
        // An assistant message addressed to someone is a tool call: it ends the turn with <|call|>.
        out.add(m.role().equals("assistant") && m.recipient() != null ? call : end);
    }

    /** An int list that encodes each text piece on its own, as harmony's render_text_into does. */
    private final class Ids {
        private int[] data = new int[256];
        private int size;

        void add(int id) {
            if (size == data.length) data = java.util.Arrays.copyOf(data, size * 2);
            data[size++] = id;
        }

        void text(String s) {
            for (int id : tokenizer.encode(s)) add(id);
        }

        int[] toArray() { return java.util.Arrays.copyOf(data, size); }
    }
}
