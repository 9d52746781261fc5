"""Short notices the bot shows the shopper, written out in every supported language.

These are written rather than machine-translated because they are few and shown often; a
language missing here goes through the translator when a pack exists, else stays English.
"""

from __future__ import annotations

import logging
from typing import Literal

from bot.errors import TranslationError
from bot.translate.translator import Translator

log = logging.getLogger(__name__)

NoticeKey = Literal[
    "handoff_minutes", "handoff_hours", "queued", "offer_handoff", "resolved", "clarify", "thanks",
    "greeting", "welcome", "welcome_more", "goodbye", "noise", "vague", "waiting_greeting",
    "withdrawn", "rate", "rated", "untranslated", "none_of_these",
]

NOTICES: dict[str, dict[str, str]] = {
    "handoff_minutes": {
        "en": "A person from our team will reply here, usually within {n} minutes.",
        "de": "Eine Person aus unserem Team antwortet hier, meist innerhalb von {n} Minuten.",
        "es": "Una persona de nuestro equipo te responderá aquí, normalmente en menos de "
        "{n} minutos.",
        "fr": "Une personne de notre équipe vous répondra ici, généralement sous {n} minutes.",
        "it": "Una persona del nostro team ti risponderà qui, di solito entro {n} minuti.",
        "nl": "Iemand van ons team antwoordt hier, meestal binnen {n} minuten.",
        "pl": "Osoba z naszego zespołu odpowie tutaj, zwykle w ciągu {n} minut.",
        "pt": "Uma pessoa da nossa equipa vai responder aqui, normalmente dentro de {n} minutos.",
        "zh": "我们团队的工作人员会在这里回复您，通常在 {n} 分钟内。",
        "ja": "担当者がこちらで返信します。通常 {n} 分以内にご連絡します。",
        "ko": "담당자가 여기에서 답변드립니다. 보통 {n}분 이내에 답변드립니다.",
        "ru": "Сотрудник нашей команды ответит здесь, обычно в течение {n} минут.",
        "tr": "Ekibimizden biri size burada, genellikle {n} dakika içinde yanıt verecek.",
        "sv": "En person i vårt team svarar här, oftast inom {n} minuter.",
    },
    "handoff_hours": {
        "en": "A person from our team will reply here, usually within {n} hours.",
        "de": "Eine Person aus unserem Team antwortet hier, meist innerhalb von {n} Stunden.",
        "es": "Una persona de nuestro equipo te responderá aquí, normalmente en menos de "
        "{n} horas.",
        "fr": "Une personne de notre équipe vous répondra ici, généralement sous {n} heures.",
        "it": "Una persona del nostro team ti risponderà qui, di solito entro {n} ore.",
        "nl": "Iemand van ons team antwoordt hier, meestal binnen {n} uur.",
        "pl": "Osoba z naszego zespołu odpowie tutaj, zwykle w ciągu {n} godzin.",
        "pt": "Uma pessoa da nossa equipa vai responder aqui, normalmente dentro de {n} horas.",
        "zh": "我们团队的工作人员会在这里回复您，通常在 {n} 小时内。",
        "ja": "担当者がこちらで返信します。通常 {n} 時間以内にご連絡します。",
        "ko": "담당자가 여기에서 답변드립니다. 보통 {n}시간 이내에 답변드립니다.",
        "ru": "Сотрудник нашей команды ответит здесь, обычно в течение {n} часов.",
        "tr": "Ekibimizden biri size burada, genellikle {n} saat içinde yanıt verecek.",
        "sv": "En person i vårt team svarar här, oftast inom {n} timmar.",
    },
    "queued": {
        "en": "Thanks, your message has been passed on. A person will reply here.",
        "de": "Danke, deine Nachricht wurde weitergeleitet. Eine Person antwortet dir hier.",
        "es": "Gracias, hemos pasado tu mensaje. Una persona te responderá aquí.",
        "fr": "Merci, votre message a été transmis. Une personne vous répondra ici.",
        "it": "Grazie, il tuo messaggio è stato inoltrato. Una persona ti risponderà qui.",
        "nl": "Bedankt, je bericht is doorgestuurd. Iemand antwoordt je hier.",
        "pl": "Dziękujemy, Twoja wiadomość została przekazana. Odpowie Ci tutaj nasz pracownik.",
        "pt": "Obrigado, a sua mensagem foi encaminhada. Uma pessoa vai responder aqui.",
        "zh": "谢谢，您的消息已转交。工作人员会在这里回复您。",
        "ja": "ありがとうございます。メッセージを担当者に引き継ぎました。こちらで返信します。",
        "ko": "감사합니다. 메시지가 전달되었습니다. 담당자가 여기에서 답변드립니다.",
        "ru": "Спасибо, ваше сообщение передано. Сотрудник ответит вам здесь.",
        "tr": "Teşekkürler, mesajınız iletildi. Bir çalışanımız size burada yanıt verecek.",
        "sv": "Tack, ditt meddelande har skickats vidare. En person svarar dig här.",
    },
    "offer_handoff": {
        "en": "Sorry that did not help. Would you like to talk to a person?",
        "de": "Schade, dass das nicht geholfen hat. Möchtest du mit einer Person sprechen?",
        "es": "Lamentamos que no te haya ayudado. ¿Quieres hablar con una persona?",
        "fr": "Désolé que cela ne vous ait pas aidé. Voulez-vous parler à une personne ?",
        "it": "Ci dispiace che non ti sia stato utile. Vuoi parlare con una persona?",
        "nl": "Jammer dat dit niet hielp. Wil je met iemand van ons team praten?",
        "pl": "Przykro nam, że to nie pomogło. Czy chcesz porozmawiać z pracownikiem?",
        "pt": "Lamentamos que não tenha ajudado. Quer falar com uma pessoa?",
        "zh": "很抱歉没能帮到您。需要转接人工客服吗？",
        "ja": "お役に立てず申し訳ありません。担当者におつなぎしましょうか？",
        "ko": "도움이 되지 못해 죄송합니다. 상담원과 이야기하시겠어요?",
        "ru": "Жаль, что это не помогло. Хотите поговорить с сотрудником?",
        "tr": "Yardımcı olamadığımız için üzgünüz. Bir çalışanla görüşmek ister misiniz?",
        "sv": "Tråkigt att det inte hjälpte. Vill du prata med en person?",
    },
    "resolved": {
        "en": "Our team marked this conversation as resolved. Write here again if you need "
        "more help.",
        "de": "Unser Team hat dieses Gespräch als erledigt markiert. Schreib uns einfach wieder, "
        "wenn du weitere Hilfe brauchst.",
        "es": "Nuestro equipo ha marcado esta conversación como resuelta. Escríbenos de nuevo si "
        "necesitas más ayuda.",
        "fr": "Notre équipe a marqué cette conversation comme résolue. Écrivez-nous à nouveau ici "
        "si vous avez besoin d'aide.",
        "it": "Il nostro team ha segnato questa conversazione come risolta. Scrivi di nuovo qui se "
        "ti serve altro aiuto.",
        "nl": "Ons team heeft dit gesprek als opgelost gemarkeerd. Schrijf hier opnieuw als je "
        "meer hulp nodig hebt.",
        "pl": "Nasz zespół oznaczył tę rozmowę jako rozwiązaną. Napisz tutaj ponownie, jeśli "
        "potrzebujesz dalszej pomocy.",
        "pt": "A nossa equipa marcou esta conversa como resolvida. Escreva aqui novamente se "
        "precisar de mais ajuda.",
        "zh": "我们的团队已将此对话标记为已解决。如需更多帮助，请在这里再次留言。",
        "ja": "この会話は解決済みになりました。"
        "ほかにご用件があれば、こちらにもう一度ご記入ください。",
        "ko": "이 대화는 해결됨으로 표시되었습니다. 도움이 더 필요하시면 여기에 다시 적어 주세요.",
        "ru": "Наша команда отметила этот разговор как решённый. Напишите здесь снова, если "
        "понадобится помощь.",
        "tr": "Ekibimiz bu görüşmeyi çözüldü olarak işaretledi. Başka yardıma ihtiyacınız olursa "
        "buraya tekrar yazın.",
        "sv": "Vårt team har markerat konversationen som löst. Skriv här igen om du behöver mer "
        "hjälp.",
    },
    "none_of_these": {
        # The last clarify chip: an uncovered question costs the shopper one tap to a person.
        "en": "None of these — talk to a person",
        "de": "Nichts davon – mit einer Person sprechen",
        "es": "Ninguna de estas: hablar con una persona",
        "fr": "Aucune de ces questions : parler à une personne",
        "it": "Nessuna di queste: parla con una persona",
        "nl": "Geen van deze – met iemand praten",
        "pl": "Żadne z tych – porozmawiaj z człowiekiem",
        "pt": "Nenhuma destas — falar com uma pessoa",
        "zh": "都不是——联系人工客服",
        "ja": "どれでもない — 担当者と話す",
        "ko": "해당 없음 — 상담원과 대화하기",
        "ru": "Ничего из этого — поговорить с человеком",
        "tr": "Hiçbiri — bir kişiyle konuş",
        "sv": "Ingen av dessa – prata med en person",
    },
    "clarify": {
        "en": "Did you mean one of these?",
        "de": "Meintest du eine dieser Fragen?",
        "es": "¿Te refieres a alguna de estas preguntas?",
        "fr": "Vouliez-vous dire l'une de ces questions ?",
        "it": "Intendevi una di queste domande?",
        "nl": "Bedoel je een van deze vragen?",
        "pl": "Czy chodziło Ci o jedno z tych pytań?",
        "pt": "Queria dizer uma destas perguntas?",
        "zh": "您是想问以下问题之一吗？",
        "ja": "次のどれかについてのご質問ですか？",
        "ko": "다음 중 하나를 물어보신 건가요?",
        "ru": "Вы имели в виду один из этих вопросов?",
        "tr": "Bunlardan birini mi sormak istediniz?",
        "sv": "Menade du någon av de här frågorna?",
    },
    "thanks": {
        "en": "Thanks for your feedback!",
        "de": "Danke für dein Feedback!",
        "es": "¡Gracias por tu opinión!",
        "fr": "Merci pour votre avis !",
        "it": "Grazie per il tuo feedback!",
        "nl": "Bedankt voor je feedback!",
        "pl": "Dziękujemy za opinię!",
        "pt": "Obrigado pelo seu feedback!",
        "zh": "感谢您的反馈！",
        "ja": "フィードバックありがとうございます！",
        "ko": "의견을 보내 주셔서 감사합니다!",
        "ru": "Спасибо за отзыв!",
        "tr": "Geri bildiriminiz için teşekkürler!",
        "sv": "Tack för din återkoppling!",
    },
    # ---- small talk (issue 16): short, friendly, in the shopper's register ----
    "greeting": {
        "en": "Hi! What can I help you with?",
        "de": "Hallo! Wobei kann ich dir helfen?",
        "es": "¡Hola! ¿En qué te puedo ayudar?",
        "fr": "Bonjour ! Comment puis-je vous aider ?",
        "it": "Ciao! Come posso aiutarti?",
        "nl": "Hoi! Waarmee kan ik je helpen?",
        "pl": "Cześć! W czym mogę Ci pomóc?",
        "pt": "Olá! Em que posso ajudar?",
        "zh": "您好！请问有什么可以帮您？",
        "ja": "こんにちは！どのようなご用件でしょうか？",
        "ko": "안녕하세요! 무엇을 도와드릴까요?",
        "ru": "Здравствуйте! Чем могу помочь?",
        "tr": "Merhaba! Size nasıl yardımcı olabilirim?",
        "sv": "Hej! Vad kan jag hjälpa dig med?",
    },
    "welcome": {
        "en": "You're welcome!",
        "de": "Gern geschehen!",
        "es": "¡De nada!",
        "fr": "Avec plaisir !",
        "it": "Prego!",
        "nl": "Graag gedaan!",
        "pl": "Nie ma za co!",
        "pt": "De nada!",
        "zh": "不客气！",
        "ja": "どういたしまして！",
        "ko": "천만에요!",
        "ru": "Пожалуйста!",
        "tr": "Rica ederim!",
        "sv": "Varsågod!",
    },
    "welcome_more": {
        "en": "You're welcome! Anything else I can help with?",
        "de": "Gern geschehen! Kann ich dir sonst noch helfen?",
        "es": "¡De nada! ¿Te puedo ayudar en algo más?",
        "fr": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "it": "Prego! Posso aiutarti con qualcos'altro?",
        "nl": "Graag gedaan! Kan ik je nog ergens anders mee helpen?",
        "pl": "Nie ma za co! Czy mogę pomóc w czymś jeszcze?",
        "pt": "De nada! Posso ajudar em mais alguma coisa?",
        "zh": "不客气！还有什么可以帮您的吗？",
        "ja": "どういたしまして！ほかにご質問はありますか？",
        "ko": "천만에요! 더 도와드릴 일이 있을까요?",
        "ru": "Пожалуйста! Могу ли я помочь чем-то ещё?",
        "tr": "Rica ederim! Başka bir konuda yardımcı olabilir miyim?",
        "sv": "Varsågod! Kan jag hjälpa dig med något mer?",
    },
    "goodbye": {
        "en": "Bye, and have a nice day!",
        "de": "Tschüss und einen schönen Tag noch!",
        "es": "¡Hasta luego y que tengas un buen día!",
        "fr": "Au revoir et bonne journée !",
        "it": "Ciao e buona giornata!",
        "nl": "Doei, en nog een fijne dag!",
        "pl": "Do widzenia i miłego dnia!",
        "pt": "Até logo e tenha um bom dia!",
        "zh": "再见，祝您生活愉快！",
        "ja": "ありがとうございました。良い一日をお過ごしください！",
        "ko": "감사합니다. 좋은 하루 보내세요!",
        "ru": "До свидания, хорошего дня!",
        "tr": "Hoşça kalın, iyi günler!",
        "sv": "Hej då, och ha en fin dag!",
    },
    "noise": {
        "en": "Sorry, I didn't catch that. What would you like to know?",
        "de": "Das habe ich leider nicht verstanden. Was möchtest du wissen?",
        "es": "Perdona, no lo he entendido. ¿Qué te gustaría saber?",
        "fr": "Désolé, je n'ai pas compris. Que souhaitez-vous savoir ?",
        "it": "Scusa, non ho capito. Cosa vorresti sapere?",
        "nl": "Sorry, dat begreep ik niet. Wat wil je weten?",
        "pl": "Przepraszam, nie zrozumiałem. Co chcesz wiedzieć?",
        "pt": "Desculpe, não percebi. O que gostaria de saber?",
        "zh": "抱歉，我没有看懂。请问您想了解什么？",
        "ja": "申し訳ありません、よくわかりませんでした。どのようなことをお知りになりたいですか？",
        "ko": "죄송해요, 잘 이해하지 못했어요. 무엇이 궁금하신가요?",
        "ru": "Извините, я не понял. Что вы хотели бы узнать?",
        "tr": "Üzgünüm, anlayamadım. Ne öğrenmek istersiniz?",
        "sv": "Förlåt, det förstod jag inte. Vad vill du veta?",
    },
    "vague": {
        "en": "Could you tell me a little more about what you need?",
        "de": "Kannst du mir etwas genauer sagen, worum es geht?",
        "es": "¿Me puedes contar un poco más sobre lo que necesitas?",
        "fr": "Pouvez-vous m'en dire un peu plus sur ce dont vous avez besoin ?",
        "it": "Puoi dirmi qualcosa in più su ciò che ti serve?",
        "nl": "Kun je iets meer vertellen over wat je nodig hebt?",
        "pl": "Czy możesz napisać trochę więcej o tym, czego potrzebujesz?",
        "pt": "Pode dizer-me um pouco mais sobre o que precisa?",
        "zh": "能再具体说一下您需要什么帮助吗？",
        "ja": "もう少し詳しく教えていただけますか？",
        "ko": "어떤 도움이 필요하신지 조금 더 자세히 알려 주시겠어요?",
        "ru": "Не могли бы вы рассказать чуть подробнее, что вам нужно?",
        "tr": "Neye ihtiyacınız olduğunu biraz daha açıklayabilir misiniz?",
        "sv": "Kan du berätta lite mer om vad du behöver?",
    },
    "waiting_greeting": {
        "en": "Hi! A person from our team will reply here soon. Meanwhile, I can answer "
        "questions.",
        "de": "Hallo! Eine Person aus unserem Team antwortet dir hier bald. Bis dahin "
        "beantworte ich gern deine Fragen.",
        "es": "¡Hola! Una persona de nuestro equipo te responderá aquí en breve. Mientras tanto, "
        "puedo responder a tus preguntas.",
        "fr": "Bonjour ! Une personne de notre équipe vous répondra ici sous peu. En attendant, "
        "je peux répondre à vos questions.",
        "it": "Ciao! Una persona del nostro team ti risponderà qui a breve. Nel frattempo posso "
        "rispondere alle tue domande.",
        "nl": "Hoi! Iemand van ons team antwoordt je hier snel. Intussen kan ik je vragen "
        "beantwoorden.",
        "pl": "Cześć! Osoba z naszego zespołu wkrótce Ci tu odpowie. W międzyczasie mogę "
        "odpowiadać na Twoje pytania.",
        "pt": "Olá! Uma pessoa da nossa equipa vai responder aqui em breve. Entretanto, posso "
        "responder às suas perguntas.",
        "zh": "您好！我们团队的工作人员很快会在这里回复您。在此期间，我可以回答您的问题。",
        "ja": "こんにちは！まもなく担当者がこちらで返信します。"
        "それまでの間、ご質問にお答えできます。",
        "ko": "안녕하세요! 곧 담당자가 여기에서 답변드립니다. "
        "그동안 궁금한 점은 제가 답변드릴게요.",
        "ru": "Здравствуйте! Сотрудник нашей команды скоро ответит вам здесь. А пока я могу "
        "ответить на ваши вопросы.",
        "tr": "Merhaba! Ekibimizden biri size kısa süre içinde burada yanıt verecek. Bu arada "
        "sorularınızı ben yanıtlayabilirim.",
        "sv": "Hej! En person i vårt team svarar dig här snart. Under tiden kan jag svara på "
        "frågor.",
    },
    "withdrawn": {
        "en": "Glad it's sorted! I've closed your request. Write here again any time.",
        "de": "Schön, dass es geklärt ist! Ich habe deine Anfrage geschlossen. Schreib uns "
        "jederzeit wieder.",
        "es": "¡Qué bien que esté resuelto! He cerrado tu consulta. Escríbenos cuando quieras.",
        "fr": "Ravi que ce soit réglé ! J'ai clôturé votre demande. Écrivez-nous ici quand vous "
        "voulez.",
        "it": "Bene, tutto risolto! Ho chiuso la tua richiesta. Scrivici qui quando vuoi.",
        "nl": "Fijn dat het opgelost is! Ik heb je vraag gesloten. Schrijf hier gerust opnieuw.",
        "pl": "Świetnie, że sprawa jest załatwiona! Zamknąłem Twoje zgłoszenie. Napisz tu "
        "ponownie w każdej chwili.",
        "pt": "Ainda bem que ficou resolvido! Fechei o seu pedido. Escreva aqui sempre que "
        "precisar.",
        "zh": "很高兴问题已解决！我已关闭您的请求。如有需要，随时在这里留言。",
        "ja": "解決してよかったです！お問い合わせを終了しました。"
        "またいつでもこちらにご記入ください。",
        "ko": "해결되어 다행이에요! 문의를 종료했습니다. 언제든 다시 적어 주세요.",
        "ru": "Рады, что всё решилось! Я закрыл ваш запрос. Пишите сюда в любое время.",
        "tr": "Çözüldüğüne sevindik! Talebinizi kapattım. İstediğiniz zaman buraya tekrar "
        "yazabilirsiniz.",
        "sv": "Skönt att det löste sig! Jag har stängt ditt ärende. Skriv här igen när du vill.",
    },
    "rate": {
        "en": "How would you rate this conversation?",
        "de": "Wie zufrieden warst du mit diesem Gespräch?",
        "es": "¿Cómo valorarías esta conversación?",
        "fr": "Comment évalueriez-vous cette conversation ?",
        "it": "Come valuteresti questa conversazione?",
        "nl": "Hoe beoordeel je dit gesprek?",
        "pl": "Jak oceniasz tę rozmowę?",
        "pt": "Como avalia esta conversa?",
        "zh": "您对本次对话满意吗？",
        "ja": "今回の対応はいかがでしたか？",
        "ko": "이번 상담은 어떠셨나요?",
        "ru": "Как вы оцените этот разговор?",
        "tr": "Bu görüşmeyi nasıl değerlendirirsiniz?",
        "sv": "Hur skulle du betygsätta det här samtalet?",
    },
    "rated": {
        "en": "Thanks for your rating!",
        "de": "Danke für deine Bewertung!",
        "es": "¡Gracias por tu valoración!",
        "fr": "Merci pour votre évaluation !",
        "it": "Grazie per la tua valutazione!",
        "nl": "Bedankt voor je beoordeling!",
        "pl": "Dziękujemy za ocenę!",
        "pt": "Obrigado pela sua avaliação!",
        "zh": "感谢您的评价！",
        "ja": "評価ありがとうございます！",
        "ko": "평가해 주셔서 감사합니다!",
        "ru": "Спасибо за оценку!",
        "tr": "Değerlendirmeniz için teşekkürler!",
        "sv": "Tack för ditt betyg!",
    },
    # After an agent's reply that no pack could translate into the shopper's language.
    "untranslated": {
        "en": "This reply could not be translated automatically into your language.",
        "de": "Diese Antwort konnte nicht automatisch in deine Sprache übersetzt werden.",
        "es": "Esta respuesta no se ha podido traducir automáticamente a tu idioma.",
        "fr": "Cette réponse n'a pas pu être traduite automatiquement dans votre langue.",
        "it": "Non è stato possibile tradurre automaticamente questa risposta nella tua lingua.",
        "nl": "Dit antwoord kon niet automatisch in je taal worden vertaald.",
        "pl": "Tej odpowiedzi nie udało się automatycznie przetłumaczyć na Twój język.",
        "pt": "Não foi possível traduzir automaticamente esta resposta para o seu idioma.",
        "zh": "此回复无法自动翻译成您的语言。",
        "ja": "この返信はお客様の言語に自動翻訳できませんでした。",
        "ko": "이 답변은 고객님의 언어로 자동 번역할 수 없었습니다.",
        "ru": "Этот ответ не удалось автоматически перевести на ваш язык.",
        "tr": "Bu yanıt otomatik olarak dilinize çevrilemedi.",
        "sv": "Det här svaret kunde inte översättas automatiskt till ditt språk.",
    },
}


def notice(
    key: NoticeKey, language: str, translator: Translator | None = None, **values: object
) -> str:
    """Return notice ``key`` in ``language`` (translated or English when it is not written)."""
    texts = NOTICES[key]
    if language in texts:
        return texts[language].format(**values)
    english = texts["en"].format(**values)
    if translator is not None:
        try:
            return translator.translate(english, "en", language)
        except TranslationError as exc:
            log.debug("notice %s stays English for %s: %s", key, language, exc)
    return english


def handoff_notice(language: str, minutes: int, translator: Translator | None = None) -> str:
    """Say a person will reply here, and roughly when (minutes, or hours from two hours on)."""
    if minutes < 120:
        return notice("handoff_minutes", language, translator, n=max(1, minutes))
    return notice("handoff_hours", language, translator, n=round(minutes / 60))
