/*
 * Sends survey answers to Miroir from Java, as a survey tool written in Java would: Apache Avro's
 * BinaryMessageEncoder (single-object encoding: C3 01, the schema's CRC-64-AVRO fingerprint, the
 * binary body) and the Java Kafka client, keyed by response_id so duplicates are recognised.
 *
 * Java 17 runs it from source, with the jars of infra/interop/pom.xml on the class path:
 *
 *   java -cp 'jars/*' ProduceSurveyResponses.java --schema schemas/SurveyResponse.avsc \
 *        --topic survey-responses --count 200 --marker demo [--bootstrap-servers localhost:9092] \
 *        [--config producer.properties]
 *
 * --config is a Java properties file of Kafka producer settings (security.protocol, sasl.*...).
 * Prints the fingerprint it writes (the 8 bytes after C3 01, hex) and how many records the
 * brokers acknowledged; exits 1 unless all were.
 */

import java.io.File;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class ProduceSurveyResponses {

    private static final String[] VERBATIMS = {
        "Livraison à l'heure, les livreurs étaient très aimables.",
        "Le créneau n'a pas été respecté : j'ai attendu toute la journée.",
        "Montage rapide et soigné, rien à redire.",
        "Colis abîmé et personne ne répond au téléphone.",
        "Très bon suivi de commande, merci !",
    };
    private static final String[] STEPS = {"delivery_booking", "delivery", "assembly", "after_sales"};
    private static final String[] SITES = {"lyon", "lille", "nantes"};

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"); // before the first logger
        Map<String, String> options = options(args);
        Schema schema = new Schema.Parser().parse(new File(required(options, "schema")));
        String topic = required(options, "topic");
        int count = Integer.parseInt(required(options, "count"));
        String marker = required(options, "marker");

        BinaryMessageEncoder<GenericRecord> encoder = new BinaryMessageEncoder<>(GenericData.get(), schema);
        byte[] fingerprint = ByteBuffer.allocate(8)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putLong(SchemaNormalization.parsingFingerprint64(schema))
            .array();
        System.out.println("fingerprint " + HexFormat.of().formatHex(fingerprint));

        AtomicInteger acknowledged = new AtomicInteger();
        AtomicReference<Exception> firstError = new AtomicReference<>();
        long now = System.currentTimeMillis();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig(options))) {
            for (int i = 0; i < count && firstError.get() == null; i++) { // stop at the first failure
                GenericRecord response = response(schema, marker, i, now - 1000L * (count - i));
                ByteBuffer encoded = encoder.encode(response);
                byte[] value = new byte[encoded.remaining()];
                encoded.get(value);
                String key = response.get("response_id").toString();
                producer.send(new ProducerRecord<>(topic, key, value), (metadata, error) -> {
                    if (error == null) {
                        acknowledged.incrementAndGet();
                    } else {
                        firstError.compareAndSet(null, error);
                    }
                });
            }
            producer.flush();
        }
        System.out.println("acknowledged " + acknowledged.get() + " of " + count);
        if (acknowledged.get() != count) {
            System.err.println("not every record was acknowledged: " + firstError.get());
            System.exit(1);
        }
    }

    /** One valid answer: an NPS score and a French verbatim on a step of home_delivery. */
    private static GenericRecord response(Schema schema, String marker, int i, long eventTimeMillis) {
        Schema scale = schema.getField("score_scale").schema();
        Schema channel = schema.getField("channel").schema();
        return new GenericRecordBuilder(schema) // fields left out take the schema's defaults
            .set("response_id", marker + "-" + i)
            .set("customer_ref", "java-customer-" + (i % 50))
            .set("journey_id", "home_delivery")
            .set("step_id", STEPS[i % STEPS.length])
            .set("score", i % 11)
            .set("score_scale", new GenericData.EnumSymbol(scale, "NPS"))
            .set("verbatim", VERBATIMS[i % VERBATIMS.length])
            .set("language", "fr")
            .set("channel", new GenericData.EnumSymbol(channel, "email"))
            .set("site", SITES[i % SITES.length])
            .set("event_time", eventTimeMillis) // timestamp-millis: a long on the wire
            .build();
    }

    private static Properties producerConfig(Map<String, String> options) throws Exception {
        Properties config = new Properties();
        if (options.containsKey("config")) {
            try (Reader reader = Files.newBufferedReader(Path.of(options.get("config")), StandardCharsets.UTF_8)) {
                config.load(reader);
            }
        }
        if (options.containsKey("bootstrap-servers")) {
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, options.get("bootstrap-servers"));
        }
        config.putIfAbsent(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000"); // no broker: fail in 30 s, not 60
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return config;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                usage("unexpected argument " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            usage("--" + name + " is required");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println(problem);
        System.err.println("usage: ProduceSurveyResponses --schema FILE.avsc --topic TOPIC --count N --marker ID"
            + " [--bootstrap-servers HOST:PORT] [--config producer.properties]");
        System.exit(2);
    }
}
