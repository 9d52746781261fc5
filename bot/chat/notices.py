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
    "untranslated",
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
    # After an agent's reply that no pack could translate into the shopper's language.
    "untranslated": {
        "en": "This reply could not be translated automatically into your language.",
        "de": "Diese Antwort konnte nicht automatisch in Ihre Sprache übersetzt werden.",
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
